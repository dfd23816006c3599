package dev.aphelion.tritter.dense;

import dev.aphelion.tritter.kernel.RowPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API version of {@link DenseKernels}: register tiles of 4 rows x 4 tokens (16 FMA
 * accumulators, 8 loads per 16 FMAs), 4 rows x 1 token for GEMV (four independent FMA chains, one
 * shared activation load), and column blocks of {@value #KC} so that a tile's rows stay in L2 and
 * its activations in L1 while all tokens pass over them. Public only so that {@link
 * dev.aphelion.tritter.kernel.Vectorization} can create it.
 */
final class PanamaDenseKernels implements DenseKernels {

  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final int KC = 1024;
  private static final int ROW_BLOCK = 64;

  /** Creates the kernels. */
  PanamaDenseKernels() {}

  @Override
  public void gemm(float[] w, int rows, int cols, float[] x, int batch, float[] bias, float[] y, RowPool pool) {
    pool.forRange(rows, DenseKernels.minRowsPerTask(cols), (r0, r1) -> {
      for (int r = r0; r < r1; r++) {
        for (int b = 0; b < batch; b++) {
          y[b * rows + r] = 0f;
        }
      }
      int kc = batch == 1 ? cols : KC; // one token: no reuse to block for
      for (int rb = r0; rb < r1; rb += ROW_BLOCK) {
        int rbEnd = Math.min(r1, rb + ROW_BLOCK);
        for (int k0 = 0; k0 < cols; k0 += kc) {
          int k1 = Math.min(cols, k0 + kc);
          int b = 0;
          for (; b + 4 <= batch; b += 4) {
            int r = rb;
            for (; r + 4 <= rbEnd; r += 4) {
              tile4x4(w, rows, cols, x, r, b, k0, k1, y);
            }
            for (; r < rbEnd; r++) {
              for (int t = b; t < b + 4; t++) {
                y[t * rows + r] += dot(w, r * cols, x, t * cols, k0, k1);
              }
            }
          }
          for (; b < batch; b++) {
            int r = rb;
            for (; r + 4 <= rbEnd; r += 4) {
              tile4x1(w, rows, cols, x, r, b, k0, k1, y);
            }
            for (; r < rbEnd; r++) {
              y[b * rows + r] += dot(w, r * cols, x, b * cols, k0, k1);
            }
          }
        }
      }
      if (bias != null) {
        for (int b = 0; b < batch; b++) {
          for (int r = r0; r < r1; r++) {
            y[b * rows + r] += bias[r];
          }
        }
      }
    });
  }

  private static void tile4x4(float[] w, int rows, int cols, float[] x, int r, int b, int k0, int k1, float[] y) {
    int w0 = r * cols;
    int w1 = w0 + cols;
    int w2 = w1 + cols;
    int w3 = w2 + cols;
    int x0 = b * cols;
    int x1 = x0 + cols;
    int x2 = x1 + cols;
    int x3 = x2 + cols;
    FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
    FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
    FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
    FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
    int lanes = F.length();
    int c = k0;
    int bound = k0 + F.loopBound(k1 - k0);
    for (; c < bound; c += lanes) {
      FloatVector v0 = FloatVector.fromArray(F, x, x0 + c);
      FloatVector v1 = FloatVector.fromArray(F, x, x1 + c);
      FloatVector v2 = FloatVector.fromArray(F, x, x2 + c);
      FloatVector v3 = FloatVector.fromArray(F, x, x3 + c);
      FloatVector m = FloatVector.fromArray(F, w, w0 + c);
      a00 = m.fma(v0, a00);
      a01 = m.fma(v1, a01);
      a02 = m.fma(v2, a02);
      a03 = m.fma(v3, a03);
      m = FloatVector.fromArray(F, w, w1 + c);
      a10 = m.fma(v0, a10);
      a11 = m.fma(v1, a11);
      a12 = m.fma(v2, a12);
      a13 = m.fma(v3, a13);
      m = FloatVector.fromArray(F, w, w2 + c);
      a20 = m.fma(v0, a20);
      a21 = m.fma(v1, a21);
      a22 = m.fma(v2, a22);
      a23 = m.fma(v3, a23);
      m = FloatVector.fromArray(F, w, w3 + c);
      a30 = m.fma(v0, a30);
      a31 = m.fma(v1, a31);
      a32 = m.fma(v2, a32);
      a33 = m.fma(v3, a33);
    }
    // reduce without collecting the accumulators in an array, which would box them
    int tail = c;
    y[b * rows + r] += finish(a00, w, w0, x, x0, tail, k1);
    y[(b + 1) * rows + r] += finish(a01, w, w0, x, x1, tail, k1);
    y[(b + 2) * rows + r] += finish(a02, w, w0, x, x2, tail, k1);
    y[(b + 3) * rows + r] += finish(a03, w, w0, x, x3, tail, k1);
    y[b * rows + r + 1] += finish(a10, w, w1, x, x0, tail, k1);
    y[(b + 1) * rows + r + 1] += finish(a11, w, w1, x, x1, tail, k1);
    y[(b + 2) * rows + r + 1] += finish(a12, w, w1, x, x2, tail, k1);
    y[(b + 3) * rows + r + 1] += finish(a13, w, w1, x, x3, tail, k1);
    y[b * rows + r + 2] += finish(a20, w, w2, x, x0, tail, k1);
    y[(b + 1) * rows + r + 2] += finish(a21, w, w2, x, x1, tail, k1);
    y[(b + 2) * rows + r + 2] += finish(a22, w, w2, x, x2, tail, k1);
    y[(b + 3) * rows + r + 2] += finish(a23, w, w2, x, x3, tail, k1);
    y[b * rows + r + 3] += finish(a30, w, w3, x, x0, tail, k1);
    y[(b + 1) * rows + r + 3] += finish(a31, w, w3, x, x1, tail, k1);
    y[(b + 2) * rows + r + 3] += finish(a32, w, w3, x, x2, tail, k1);
    y[(b + 3) * rows + r + 3] += finish(a33, w, w3, x, x3, tail, k1);
  }

  /** Sum of an accumulator's lanes plus the scalar tail {@code [c, k1)}. */
  private static float finish(FloatVector acc, float[] w, int wo, float[] x, int xo, int c, int k1) {
    float s = acc.reduceLanes(VectorOperators.ADD);
    for (; c < k1; c++) {
      s += w[wo + c] * x[xo + c];
    }
    return s;
  }

  private static void tile4x1(float[] w, int rows, int cols, float[] x, int r, int b, int k0, int k1, float[] y) {
    int w0 = r * cols;
    int w1 = w0 + cols;
    int w2 = w1 + cols;
    int w3 = w2 + cols;
    int xo = b * cols;
    FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
    int lanes = F.length();
    int c = k0;
    int bound = k0 + F.loopBound(k1 - k0);
    for (; c < bound; c += lanes) {
      FloatVector v = FloatVector.fromArray(F, x, xo + c);
      a0 = FloatVector.fromArray(F, w, w0 + c).fma(v, a0);
      a1 = FloatVector.fromArray(F, w, w1 + c).fma(v, a1);
      a2 = FloatVector.fromArray(F, w, w2 + c).fma(v, a2);
      a3 = FloatVector.fromArray(F, w, w3 + c).fma(v, a3);
    }
    float s0 = a0.reduceLanes(VectorOperators.ADD);
    float s1 = a1.reduceLanes(VectorOperators.ADD);
    float s2 = a2.reduceLanes(VectorOperators.ADD);
    float s3 = a3.reduceLanes(VectorOperators.ADD);
    for (; c < k1; c++) {
      float xv = x[xo + c];
      s0 += w[w0 + c] * xv;
      s1 += w[w1 + c] * xv;
      s2 += w[w2 + c] * xv;
      s3 += w[w3 + c] * xv;
    }
    y[b * rows + r] += s0;
    y[b * rows + r + 1] += s1;
    y[b * rows + r + 2] += s2;
    y[b * rows + r + 3] += s3;
  }

  private static float dot(float[] w, int wo, float[] x, int xo, int k0, int k1) {
    FloatVector a = FloatVector.zero(F);
    int lanes = F.length();
    int c = k0;
    int bound = k0 + F.loopBound(k1 - k0);
    for (; c < bound; c += lanes) {
      a = FloatVector.fromArray(F, w, wo + c).fma(FloatVector.fromArray(F, x, xo + c), a);
    }
    float s = a.reduceLanes(VectorOperators.ADD);
    for (; c < k1; c++) {
      s += w[wo + c] * x[xo + c];
    }
    return s;
  }
}
