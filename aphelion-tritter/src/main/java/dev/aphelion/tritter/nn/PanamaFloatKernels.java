package dev.aphelion.tritter.nn;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API implementation of {@link FloatKernels}; loaded by name only. Sums are accumulated
 * lane-wise and reduced at the end, so results differ from the scalar reference by rounding only.
 */
final class PanamaFloatKernels implements FloatKernels {

  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  // One byte lane per float lane, so a byte load widens to exactly one float vector.
  private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.length() * 8));

  /** Creates the Vector API implementation. */
  PanamaFloatKernels() {}

  @Override
  public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
    int l = F.length();
    int i = 0;
    FloatVector acc0 = FloatVector.zero(F);
    FloatVector acc1 = FloatVector.zero(F);
    for (; i <= n - 2 * l; i += 2 * l) {
      acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
      acc1 = FloatVector.fromArray(F, a, aOff + i + l).fma(FloatVector.fromArray(F, b, bOff + i + l), acc1);
    }
    for (; i <= n - l; i += l) {
      acc0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc0);
    }
    float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    for (; i < n; i++) {
      s += a[aOff + i] * b[bOff + i];
    }
    return s;
  }

  @Override
  public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
    int l = F.length();
    int i = 0;
    FloatVector va = FloatVector.broadcast(F, alpha);
    for (; i <= n - l; i += l) {
      FloatVector.fromArray(F, x, xOff + i).fma(va, FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
    }
    for (; i < n; i++) {
      y[yOff + i] += alpha * x[xOff + i];
    }
  }

  @Override
  public float sumSquares(float[] x, int off, int n) {
    return dot(x, off, x, off, n);
  }

  @Override
  public float dotInt8(byte[] w, int wOff, float[] x, int xOff, int n) {
    int l = F.length();
    int i = 0;
    FloatVector acc0 = FloatVector.zero(F);
    FloatVector acc1 = FloatVector.zero(F);
    for (; i <= n - 2 * l; i += 2 * l) {
      FloatVector w0 = (FloatVector) ByteVector.fromArray(B, w, wOff + i).convertShape(VectorOperators.B2F, F, 0);
      FloatVector w1 = (FloatVector) ByteVector.fromArray(B, w, wOff + i + l).convertShape(VectorOperators.B2F, F, 0);
      acc0 = w0.fma(FloatVector.fromArray(F, x, xOff + i), acc0);
      acc1 = w1.fma(FloatVector.fromArray(F, x, xOff + i + l), acc1);
    }
    for (; i <= n - l; i += l) {
      FloatVector w0 = (FloatVector) ByteVector.fromArray(B, w, wOff + i).convertShape(VectorOperators.B2F, F, 0);
      acc0 = w0.fma(FloatVector.fromArray(F, x, xOff + i), acc0);
    }
    float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    for (; i < n; i++) {
      s += w[wOff + i] * x[xOff + i];
    }
    return s;
  }

  @Override
  public void axpyInt8(float alpha, byte[] x, int xOff, float[] y, int yOff, int n) {
    int l = F.length();
    int i = 0;
    FloatVector va = FloatVector.broadcast(F, alpha);
    for (; i <= n - l; i += l) {
      FloatVector xv = (FloatVector) ByteVector.fromArray(B, x, xOff + i).convertShape(VectorOperators.B2F, F, 0);
      xv.fma(va, FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
    }
    for (; i < n; i++) {
      y[yOff + i] += alpha * x[xOff + i];
    }
  }
}
