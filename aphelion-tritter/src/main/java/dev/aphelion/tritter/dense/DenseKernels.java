package dev.aphelion.tritter.dense;

import dev.aphelion.tritter.kernel.RowPool;

/** Dense f32 matmul kernels: a scalar reference and a Vector API version. Arguments are validated by {@link DenseMatmul}. */
interface DenseKernels {

  /**
   * {@code y[b][r] = Σ_c w[r][c] · x[b][c] (+ bias[r])}.
   *
   * @param w {@code rows * cols} weights, row-major
   * @param rows rows
   * @param cols columns
   * @param x {@code batch * cols} activations, row-major
   * @param batch tokens
   * @param bias {@code rows} values or {@code null}
   * @param y {@code batch * rows} outputs, row-major
   * @param pool threads to split rows across
   */
  void gemm(float[] w, int rows, int cols, float[] x, int batch, float[] bias, float[] y, RowPool pool);

  /** Rows per chunk worth handing to another thread: about half a million weights. */
  static int minRowsPerTask(int cols) {
    return (int) Math.max(1, (1L << 19) / cols);
  }
}
