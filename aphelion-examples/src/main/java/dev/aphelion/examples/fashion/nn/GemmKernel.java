package dev.aphelion.examples.fashion.nn;

/**
 * One implementation of the dense product {@code C[m×n] (+)= A[m×k] · B[k×n]} over row-major
 * slices of {@code float[]} arrays. {@link Gemm} checks the arguments and picks the
 * implementation; implementations may assume valid arguments.
 */
public interface GemmKernel {
  /**
   * {@code C = A · B}, or {@code C += A · B} when {@code accumulate}.
   *
   * @param a left matrix, {@code m×k} at {@code aOff}
   * @param aOff offset of A
   * @param b right matrix, {@code k×n} at {@code bOff}
   * @param bOff offset of B
   * @param c result, {@code m×n} at {@code cOff}
   * @param cOff offset of C
   * @param m rows of A and C
   * @param k columns of A, rows of B
   * @param n columns of B and C
   * @param accumulate add to C instead of overwriting it
   */
  void matmul(
      float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
      int m, int k, int n, boolean accumulate);

  /**
   * BitNet b1.58 absmean ternarization of each row, with exactly the arithmetic of the library's
   * {@code TernaryQuantization.absmean}: {@code scale} = float sum of {@code |w|} in column order divided
   * by {@code cols} (1 for an all-zero row); {@code q = 1} where {@code w/scale >= 0.5},
   * {@code -1} where {@code <= -0.5}, else 0. Implementations must give identical results.
   *
   * @param w weights, row-major {@code rows × cols} from {@code off}
   * @param off offset of the matrix
   * @param rows rows
   * @param cols columns
   * @param q receives {@code rows × cols} values in {-1, 0, 1}
   * @param scales receives one scale per row
   */
  void ternarizeRows(float[] w, int off, int rows, int cols, float[] q, float[] scales);
}
