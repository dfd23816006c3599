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
}
