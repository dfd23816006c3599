package dev.aphelion.examples.fashion.nn;

import dev.aphelion.core.error.ShapeException;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dense single-precision matrix products for the demo's trainer, on the Vector API, with a plain
 * scalar reference ({@link #matmulScalar}) that the tests compare against.
 *
 * <p>All matrices are row-major slices of {@code float[]} arrays given by an offset. The kernel
 * computes {@code C[m×n] (+)= A[m×k] · B[k×n]} with a 4×2-vector register block: for each step
 * along {@code k} it loads two vectors of a row of B and broadcasts four values of A, so each
 * loaded value feeds four or two fused multiply-adds. Column strips of B are the outer loop so
 * that a strip ({@code k × 2 vectors}) stays in L2 while all row blocks of A pass over it.
 *
 * <p>Results differ from the scalar reference only by the order of the float additions (the
 * kernel adds along {@code k} in the same order, but uses fused multiply-add); both are exact
 * when all products and partial sums are integers below 2<sup>24</sup>, which the ternary
 * forward pass relies on.
 */
public final class Gemm {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();

  private Gemm() {}

  /** The number of floats in one vector of the preferred species on this machine. */
  public static int lanes() {
    return L;
  }

  /**
   * {@code C[m×n] = A[m×k] · B[k×n]} (or {@code +=} when {@code accumulate}).
   *
   * @param a left matrix, row-major, {@code m×k} at {@code aOff}
   * @param aOff offset of A
   * @param b right matrix, row-major, {@code k×n} at {@code bOff}
   * @param bOff offset of B
   * @param c result, row-major, {@code m×n} at {@code cOff}
   * @param cOff offset of C
   * @param m rows of A and C
   * @param k columns of A, rows of B
   * @param n columns of B and C
   * @param accumulate add to C instead of overwriting it
   * @throws ShapeException if a slice does not fit its array or a size is negative
   */
  public static void matmul(
      float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
      int m, int k, int n, boolean accumulate) {
    check(a, aOff, b, bOff, c, cOff, m, k, n);
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
      tail(a, aOff, b, bOff, c, cOff, m, k, n, j, accumulate);
    }
  }

  /**
   * The scalar reference for {@link #matmul}: three plain loops, adding along {@code k} in order.
   *
   * @param a left matrix, row-major, {@code m×k} at {@code aOff}
   * @param aOff offset of A
   * @param b right matrix, row-major, {@code k×n} at {@code bOff}
   * @param bOff offset of B
   * @param c result, row-major, {@code m×n} at {@code cOff}
   * @param cOff offset of C
   * @param m rows of A and C
   * @param k columns of A, rows of B
   * @param n columns of B and C
   * @param accumulate add to C instead of overwriting it
   */
  public static void matmulScalar(
      float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
      int m, int k, int n, boolean accumulate) {
    check(a, aOff, b, bOff, c, cOff, m, k, n);
    tail(a, aOff, b, bOff, c, cOff, m, k, n, 0, accumulate);
  }

  /**
   * Writes the transpose of {@code src[rows×cols]} to {@code dst[cols×rows]}.
   *
   * @param src source, row-major, at {@code srcOff}
   * @param srcOff offset of the source
   * @param rows rows of the source
   * @param cols columns of the source
   * @param dst destination, row-major, at {@code dstOff}
   * @param dstOff offset of the destination
   */
  public static void transpose(float[] src, int srcOff, int rows, int cols, float[] dst, int dstOff) {
    if (rows < 0 || cols < 0 || srcOff < 0 || dstOff < 0
        || srcOff + (long) rows * cols > src.length || dstOff + (long) rows * cols > dst.length) {
      throw new ShapeException(
          "transpose of " + rows + "×" + cols + " does not fit arrays of " + src.length + " and "
              + dst.length);
    }
    // 32×32 tiles keep both the read and the write side in cache.
    final int t = 32;
    for (int r0 = 0; r0 < rows; r0 += t) {
      int r1 = Math.min(rows, r0 + t);
      for (int c0 = 0; c0 < cols; c0 += t) {
        int c1 = Math.min(cols, c0 + t);
        for (int r = r0; r < r1; r++) {
          int s = srcOff + r * cols;
          for (int cc = c0; cc < c1; cc++) {
            dst[dstOff + cc * rows + r] = src[s + cc];
          }
        }
      }
    }
  }

  private static void check(
      float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int m, int k, int n) {
    if (m < 0 || k < 0 || n < 0) {
      throw new ShapeException("negative matrix size m=" + m + " k=" + k + " n=" + n);
    }
    if (aOff < 0 || bOff < 0 || cOff < 0
        || aOff + (long) m * k > a.length
        || bOff + (long) k * n > b.length
        || cOff + (long) m * n > c.length) {
      throw new ShapeException(
          "matmul " + m + "×" + k + " · " + k + "×" + n + " does not fit: A has " + a.length
              + " from " + aOff + ", B " + b.length + " from " + bOff + ", C " + c.length
              + " from " + cOff);
    }
  }

  private static void tail(
      float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
      int m, int k, int n, int j0, boolean accumulate) {
    for (int i = 0; i < m; i++) {
      for (int j = j0; j < n; j++) {
        float s = accumulate ? c[cOff + i * n + j] : 0f;
        for (int p = 0; p < k; p++) {
          s += a[aOff + i * k + p] * b[bOff + p * n + j];
        }
        c[cOff + i * n + j] = s;
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
