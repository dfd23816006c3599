package dev.aphelion.examples.fashion.nn;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.kernel.Vectorization;
import java.lang.invoke.MethodHandles;

/**
 * Dense single-precision matrix products for the demo's trainer. All matrices are row-major
 * slices of {@code float[]} arrays given by an offset.
 *
 * <p>{@link #matmul} runs {@link VectorGemm} on the Vector API, or the scalar reference
 * {@link ScalarGemm} where the Vector API is unavailable or {@code -Daphelion.kernels=scalar}
 * forces it (the choice is the library's {@link Vectorization}). The two differ only by rounding
 * (the vector kernel fuses each multiply-add); both are exact when all products and partial sums
 * are integers below 2<sup>24</sup>, which the ternary forward pass relies on.
 */
public final class Gemm {
  private Gemm() {}

  private static final class Holder {
    static final GemmKernel KERNEL = Vectorization.get()
        .select(GemmKernel.class, ScalarGemm::new, MethodHandles.lookup(), "VectorGemm");
  }

  /** The implementation {@link #matmul} uses in this JVM. */
  public static GemmKernel kernel() {
    return Holder.KERNEL;
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
    Holder.KERNEL.matmul(a, aOff, b, bOff, c, cOff, m, k, n, accumulate);
  }

  /**
   * Absmean ternarization of each row (see {@link GemmKernel#ternarizeRows}).
   *
   * @param w weights, row-major {@code rows × cols} from {@code off}
   * @param off offset of the matrix
   * @param rows rows
   * @param cols columns
   * @param q receives {@code rows × cols} values in {-1, 0, 1}
   * @param scales receives one scale per row
   * @throws ShapeException if a slice does not fit its array
   */
  public static void ternarizeRows(float[] w, int off, int rows, int cols, float[] q, float[] scales) {
    if (rows < 0 || cols <= 0 || off < 0 || off + (long) rows * cols > w.length
        || (long) rows * cols > q.length || rows > scales.length) {
      throw new ShapeException("ternarize " + rows + "×" + cols + " from " + off
          + " does not fit arrays of " + w.length + ", " + q.length + " and " + scales.length);
    }
    Holder.KERNEL.ternarizeRows(w, off, rows, cols, q, scales);
  }

  /**
   * Checks that a product's slices fit their arrays.
   *
   * @param a left matrix
   * @param aOff offset of A
   * @param b right matrix
   * @param bOff offset of B
   * @param c result
   * @param cOff offset of C
   * @param m rows of A and C
   * @param k columns of A, rows of B
   * @param n columns of B and C
   * @throws ShapeException if a slice does not fit its array or a size is negative
   */
  public static void check(
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

  /**
   * Writes the transpose of {@code src[rows×cols]} to {@code dst[cols×rows]}.
   *
   * @param src source, row-major, at {@code srcOff}
   * @param srcOff offset of the source
   * @param rows rows of the source
   * @param cols columns of the source
   * @param dst destination, row-major, at {@code dstOff}
   * @param dstOff offset of the destination
   * @throws ShapeException if a slice does not fit its array
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
}
