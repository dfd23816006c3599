package dev.aphelion.tritter.quant;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.kernel.Vectorization;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.util.Objects;

/**
 * Int8 activations with one scale per token (BitNet's A8): {@code scale = max|x| / 127}, {@code q =
 * clamp(rint(x · (127 / max|x|)), -127, 127)} rounded half to even, so {@code x ≈ q * scale}; this
 * is transformers' BitNet activation quantizer, so both pick the same codes. A token of all
 * zeros gets scale 1.0 and all-zero values (no division by zero, and {@code q * scale} is still
 * exact). Values are in {@code [-127, 127]}; -128 never occurs.
 *
 * <p>Immutable: {@link #values()} and {@link #scales()} return copies, and {@link #segment()} a
 * read-only view for kernels.
 */
public final class Int8Activations {

  private final byte[] q; // [batch][cols]
  private final float[] scales; // [batch]
  private final int batch;
  private final int cols;

  private Int8Activations(byte[] q, float[] scales, int batch, int cols) {
    this.q = q;
    this.scales = scales;
    this.batch = batch;
    this.cols = cols;
  }

  /**
   * Quantizes one token with the process-wide {@link Vectorization#get()} kernels.
   *
   * @param x the token's activations, all finite
   * @return the quantized token (batch 1)
   * @throws ShapeException if {@code x} is empty or holds a NaN or infinite value (naming its index)
   */
  public static Int8Activations quantize(float[] x) {
    Objects.requireNonNull(x, "x");
    return quantize(Vectorization.get(), x, 1, x.length);
  }

  /**
   * Quantizes a batch of tokens, row-major {@code [batch][cols]}, with {@link Vectorization#get()}.
   *
   * @param x {@code batch * cols} finite activations
   * @param batch number of tokens
   * @param cols activations per token
   * @return the quantized batch
   * @throws ShapeException on a bad shape or a NaN or infinite value (naming its index)
   */
  public static Int8Activations quantize(float[] x, int batch, int cols) {
    return quantize(Vectorization.get(), x, batch, cols);
  }

  /**
   * Quantizes a batch of tokens with the kernels of an explicit vectorization path (tests and
   * benchmarks compare both). Both paths give identical results.
   *
   * @param vectorization the path to use
   * @param x {@code batch * cols} finite activations
   * @param batch number of tokens
   * @param cols activations per token
   * @return the quantized batch
   * @throws ShapeException on a bad shape or a NaN or infinite value (naming its index)
   */
  public static Int8Activations quantize(Vectorization vectorization, float[] x, int batch, int cols) {
    Objects.requireNonNull(vectorization, "vectorization");
    Objects.requireNonNull(x, "x");
    checkShape(x.length, batch, cols);
    ActivationQuantizer k = Kernels.of(vectorization);
    byte[] q = new byte[batch * cols];
    float[] scales = new float[batch];
    for (int b = 0; b < batch; b++) {
      float s = k.quantize(x, b * cols, cols, q, b * cols);
      if (Float.isNaN(s)) {
        for (int i = b * cols; i < (b + 1) * cols; i++) {
          if (!Float.isFinite(x[i])) {
            throw new ShapeException("activation at index " + i + " (token " + b + ", col " + (i - b * cols) + ") is " + x[i] + "; activations must be finite");
          }
        }
      }
      scales[b] = s;
    }
    return new Int8Activations(q, scales, batch, cols);
  }

  /**
   * Wraps already quantized values (copied).
   *
   * @param q {@code batch * cols} values in {@code [-127, 127]}
   * @param scales {@code batch} positive finite scales
   * @param batch number of tokens
   * @param cols values per token
   * @return the activations
   * @throws ShapeException on a bad shape, a value of -128 or a non-positive or non-finite scale
   */
  public static Int8Activations of(byte[] q, float[] scales, int batch, int cols) {
    Objects.requireNonNull(q, "q");
    Objects.requireNonNull(scales, "scales");
    checkShape(q.length, batch, cols);
    if (scales.length != batch) {
      throw new ShapeException("scales has length " + scales.length + " but batch is " + batch);
    }
    for (int i = 0; i < q.length; i++) {
      if (q[i] == Byte.MIN_VALUE) {
        throw new ShapeException("value at index " + i + " is -128; int8 activations are in [-127, 127]");
      }
    }
    for (int b = 0; b < batch; b++) {
      if (!(scales[b] > 0f) || !Float.isFinite(scales[b])) {
        throw new ShapeException("scale of token " + b + " is " + scales[b] + "; scales must be positive and finite");
      }
    }
    return new Int8Activations(q.clone(), scales.clone(), batch, cols);
  }

  private static void checkShape(int length, int batch, int cols) {
    if (batch < 1 || cols < 1) {
      throw new ShapeException("activations need batch >= 1 and cols >= 1, got batch " + batch + ", cols " + cols);
    }
    if (length != (long) batch * cols) {
      throw new ShapeException("activations have length " + length + " but batch*cols = " + batch + "*" + cols + " = " + (long) batch * cols);
    }
  }

  /** Number of tokens. */
  public int batch() {
    return batch;
  }

  /** Values per token. */
  public int cols() {
    return cols;
  }

  /**
   * The scale of one token.
   *
   * @param token the token
   * @return {@code max|x|/127}, or 1.0 for an all-zero token
   */
  public float scale(int token) {
    return scales[Objects.checkIndex(token, batch)];
  }

  /** A copy of the per-token scales. */
  public float[] scales() {
    return scales.clone();
  }

  /**
   * One quantized value.
   *
   * @param token the token
   * @param col the column
   * @return the value in {@code [-127, 127]}
   */
  public byte value(int token, int col) {
    Objects.checkIndex(token, batch);
    Objects.checkIndex(col, cols);
    return q[token * cols + col];
  }

  /** A copy of the quantized values, row-major {@code [batch][cols]}. */
  public byte[] values() {
    return q.clone();
  }

  /** A read-only view of the quantized values, row-major {@code [batch][cols]}, without copying. */
  public MemorySegment segment() {
    return MemorySegment.ofArray(q).asReadOnly();
  }

  /** The dequantized activations {@code q * scale}, row-major. */
  public float[] dequantize() {
    float[] out = new float[q.length];
    for (int i = 0; i < q.length; i++) {
      out[i] = q[i] * scales[i / cols];
    }
    return out;
  }

  @Override
  public String toString() {
    return "Int8Activations[batch=" + batch + ", cols=" + cols + "]";
  }

  /** One kernel instance per path; both are stateless. */
  private static final class Kernels {
    private static final ActivationQuantizer SCALAR = new ScalarActivationQuantizer();
    private static volatile ActivationQuantizer vector;

    static ActivationQuantizer of(Vectorization v) {
      if (v.mode() == Vectorization.Mode.SCALAR) {
        return SCALAR;
      }
      ActivationQuantizer k = vector;
      if (k == null) {
        k = v.select(ActivationQuantizer.class, ScalarActivationQuantizer::new, MethodHandles.lookup(), "PanamaActivationQuantizer");
        vector = k;
      }
      return k;
    }
  }
}
