package dev.aphelion.tritter.dense;

import dev.aphelion.tritter.kernel.RowPool;

/** The plain-Java reference of {@link DenseKernels}: one dot product per output, in column order. */
final class ScalarDenseKernels implements DenseKernels {

  @Override
  public void gemm(float[] w, int rows, int cols, float[] x, int batch, float[] bias, float[] y, RowPool pool) {
    pool.forRange(rows, DenseKernels.minRowsPerTask(cols), (r0, r1) -> {
      for (int b = 0; b < batch; b++) {
        for (int r = r0; r < r1; r++) {
          float s = 0f;
          for (int c = 0; c < cols; c++) {
            s += w[r * cols + c] * x[b * cols + c];
          }
          y[b * rows + r] = bias == null ? s : s + bias[r];
        }
      }
    });
  }
}
