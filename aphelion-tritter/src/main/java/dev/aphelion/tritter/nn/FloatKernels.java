package dev.aphelion.tritter.nn;

import dev.aphelion.tritter.kernel.Vectorization;
import java.lang.invoke.MethodHandles;

/**
 * The small float vector operations that attention, normalization and the int8 embedding head
 * need: dot products, scaled accumulation and int8-weight dot products. Two implementations: plain
 * loops ({@link ScalarFloatKernels}, the reference) and the Vector API ({@link
 * PanamaFloatKernels}), chosen once through {@link Vectorization#get()}.
 */
public interface FloatKernels {

  /**
   * The implementation for this JVM's vectorization choice.
   *
   * @return the shared instance
   */
  static FloatKernels get() {
    Vectorization.get(); // a bad -Daphelion.kernels is a ConfigException here, not a failed class init
    return DefaultFloatKernels.INSTANCE;
  }

  /**
   * The implementation for a given path (tests compare both).
   *
   * @param v the path
   * @return a new instance
   */
  static FloatKernels of(Vectorization v) {
    return v.select(FloatKernels.class, ScalarFloatKernels::new, MethodHandles.lookup(), "PanamaFloatKernels");
  }

  /** {@code Σ a[aOff+i]·b[bOff+i]} for {@code i < n}. */
  float dot(float[] a, int aOff, float[] b, int bOff, int n);

  /** {@code y[yOff+i] += alpha·x[xOff+i]} for {@code i < n}. */
  void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n);

  /** {@code Σ x[off+i]²} for {@code i < n}. */
  float sumSquares(float[] x, int off, int n);

  /** {@code Σ w[wOff+i]·x[xOff+i]} with signed int8 weights, for {@code i < n}. */
  float dotInt8(byte[] w, int wOff, float[] x, int xOff, int n);

  /** {@code y[yOff+i] += alpha·x[xOff+i]} with signed int8 {@code x}, for {@code i < n}. */
  void axpyInt8(float alpha, byte[] x, int xOff, float[] y, int yOff, int n);
}

/** Holds the process-wide instance; initialized on first use. */
final class DefaultFloatKernels {
  private DefaultFloatKernels() {}

  static final FloatKernels INSTANCE = FloatKernels.of(Vectorization.get());
}
