package dev.aphelion.examples.fashion.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API implementation of {@link GemmKernel}: {@code C[m×n] (+)= A[m×k] · B[k×n]} with
 * a 4×2-vector register block. For each step along {@code k} it loads two vectors of a row of B
 * and broadcasts four values of A, so each loaded value feeds four or two fused multiply-adds.
 * Column strips of B are the outer loop so that a strip ({@code k × 2 vectors}) stays in L2 while
 * all row blocks of A pass over it. Loaded by name through {@code Vectorization}, so nothing else
 * touches the incubator module. Arguments are checked by {@link Gemm}.
 */
public final class VectorGemm implements GemmKernel {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();

  /** Creates the kernel (called reflectively). */
  public VectorGemm() {}

  @Override
  public void matmul(
      float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
      int m, int k, int n, boolean accumulate) {
    int j = 0;
    for (; j + 2 * L <= n; j += 2 * L) {
      int i = 0;
      for (; i + 4 <= m; i += 4) {
        block4x2(a, aOff + i * k, b, bOff + j, c, cOff + i * n + j, k, n, accumulate);
      }
      for (; i < m; i++) {
        block1x2(a, aOff + i * k, b, bOff + j, c, cOff + i * n + j, k, n, accumulate);
      }
    }
    for (; j + L <= n; j += L) {
      int i = 0;
      for (; i + 4 <= m; i += 4) {
        block4x1(a, aOff + i * k, b, bOff + j, c, cOff + i * n + j, k, n, accumulate);
      }
      for (; i < m; i++) {
        block1x1(a, aOff + i * k, b, bOff + j, c, cOff + i * n + j, k, n, accumulate);
      }
    }
    if (j < n) {
      ScalarGemm.columns(a, aOff, b, bOff, c, cOff, m, k, n, j, accumulate);
    }
  }

  @Override
  public void ternarizeRows(float[] w, int off, int rows, int cols, float[] q, float[] scales) {
    FloatVector one = FloatVector.broadcast(S, 1f);
    FloatVector minusOne = FloatVector.broadcast(S, -1f);
    FloatVector zero = FloatVector.zero(S);
    for (int r = 0; r < rows; r++) {
      int base = off + r * cols;
      // the sum stays scalar and in column order, as the library computes it
      float scale = ScalarGemm.absmeanScale(w, base, cols);
      scales[r] = scale;
      int qb = r * cols;
      int c = 0;
      for (; c + L <= cols; c += L) {
        // lanewise division is IEEE division, so v equals the scalar w / scale exactly
        FloatVector v = FloatVector.fromArray(S, w, base + c).div(scale);
        zero.blend(one, v.compare(VectorOperators.GE, 0.5f))
            .blend(minusOne, v.compare(VectorOperators.LE, -0.5f))
            .intoArray(q, qb + c);
      }
      for (; c < cols; c++) {
        float v = w[base + c] / scale;
        q[qb + c] = v >= 0.5f ? 1f : v <= -0.5f ? -1f : 0f;
      }
    }
  }

  private static void block4x2(
      float[] a, int a0, float[] b, int b0, float[] c, int c0, int k, int n, boolean acc) {
    FloatVector c00, c01, c10, c11, c20, c21, c30, c31;
    if (acc) {
      c00 = FloatVector.fromArray(S, c, c0);
      c01 = FloatVector.fromArray(S, c, c0 + L);
      c10 = FloatVector.fromArray(S, c, c0 + n);
      c11 = FloatVector.fromArray(S, c, c0 + n + L);
      c20 = FloatVector.fromArray(S, c, c0 + 2 * n);
      c21 = FloatVector.fromArray(S, c, c0 + 2 * n + L);
      c30 = FloatVector.fromArray(S, c, c0 + 3 * n);
      c31 = FloatVector.fromArray(S, c, c0 + 3 * n + L);
    } else {
      c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = FloatVector.zero(S);
    }
    int a1 = a0 + k;
    int a2 = a1 + k;
    int a3 = a2 + k;
    for (int p = 0, bp = b0; p < k; p++, bp += n) {
      FloatVector v0 = FloatVector.fromArray(S, b, bp);
      FloatVector v1 = FloatVector.fromArray(S, b, bp + L);
      FloatVector x0 = FloatVector.broadcast(S, a[a0 + p]);
      FloatVector x1 = FloatVector.broadcast(S, a[a1 + p]);
      FloatVector x2 = FloatVector.broadcast(S, a[a2 + p]);
      FloatVector x3 = FloatVector.broadcast(S, a[a3 + p]);
      c00 = x0.lanewise(VectorOperators.FMA, v0, c00);
      c01 = x0.lanewise(VectorOperators.FMA, v1, c01);
      c10 = x1.lanewise(VectorOperators.FMA, v0, c10);
      c11 = x1.lanewise(VectorOperators.FMA, v1, c11);
      c20 = x2.lanewise(VectorOperators.FMA, v0, c20);
      c21 = x2.lanewise(VectorOperators.FMA, v1, c21);
      c30 = x3.lanewise(VectorOperators.FMA, v0, c30);
      c31 = x3.lanewise(VectorOperators.FMA, v1, c31);
    }
    c00.intoArray(c, c0);
    c01.intoArray(c, c0 + L);
    c10.intoArray(c, c0 + n);
    c11.intoArray(c, c0 + n + L);
    c20.intoArray(c, c0 + 2 * n);
    c21.intoArray(c, c0 + 2 * n + L);
    c30.intoArray(c, c0 + 3 * n);
    c31.intoArray(c, c0 + 3 * n + L);
  }

  private static void block1x2(
      float[] a, int a0, float[] b, int b0, float[] c, int c0, int k, int n, boolean acc) {
    FloatVector c00 = acc ? FloatVector.fromArray(S, c, c0) : FloatVector.zero(S);
    FloatVector c01 = acc ? FloatVector.fromArray(S, c, c0 + L) : FloatVector.zero(S);
    for (int p = 0, bp = b0; p < k; p++, bp += n) {
      FloatVector x0 = FloatVector.broadcast(S, a[a0 + p]);
      c00 = x0.lanewise(VectorOperators.FMA, FloatVector.fromArray(S, b, bp), c00);
      c01 = x0.lanewise(VectorOperators.FMA, FloatVector.fromArray(S, b, bp + L), c01);
    }
    c00.intoArray(c, c0);
    c01.intoArray(c, c0 + L);
  }

  private static void block4x1(
      float[] a, int a0, float[] b, int b0, float[] c, int c0, int k, int n, boolean acc) {
    FloatVector c0v, c1v, c2v, c3v;
    if (acc) {
      c0v = FloatVector.fromArray(S, c, c0);
      c1v = FloatVector.fromArray(S, c, c0 + n);
      c2v = FloatVector.fromArray(S, c, c0 + 2 * n);
      c3v = FloatVector.fromArray(S, c, c0 + 3 * n);
    } else {
      c0v = c1v = c2v = c3v = FloatVector.zero(S);
    }
    int a1 = a0 + k;
    int a2 = a1 + k;
    int a3 = a2 + k;
    for (int p = 0, bp = b0; p < k; p++, bp += n) {
      FloatVector v = FloatVector.fromArray(S, b, bp);
      c0v = FloatVector.broadcast(S, a[a0 + p]).lanewise(VectorOperators.FMA, v, c0v);
      c1v = FloatVector.broadcast(S, a[a1 + p]).lanewise(VectorOperators.FMA, v, c1v);
      c2v = FloatVector.broadcast(S, a[a2 + p]).lanewise(VectorOperators.FMA, v, c2v);
      c3v = FloatVector.broadcast(S, a[a3 + p]).lanewise(VectorOperators.FMA, v, c3v);
    }
    c0v.intoArray(c, c0);
    c1v.intoArray(c, c0 + n);
    c2v.intoArray(c, c0 + 2 * n);
    c3v.intoArray(c, c0 + 3 * n);
  }

  private static void block1x1(
      float[] a, int a0, float[] b, int b0, float[] c, int c0, int k, int n, boolean acc) {
    FloatVector cv = acc ? FloatVector.fromArray(S, c, c0) : FloatVector.zero(S);
    for (int p = 0, bp = b0; p < k; p++, bp += n) {
      cv = FloatVector.broadcast(S, a[a0 + p]).lanewise(VectorOperators.FMA, FloatVector.fromArray(S, b, bp), cv);
    }
    cv.intoArray(c, c0);
  }
}
