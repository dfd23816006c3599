package dev.aphelion.examples.fashion.nn;

/**
 * The scalar reference {@link GemmKernel}: for every output element, the products along
 * {@code k} added in order, one rounding per multiply and per add.
 */
public final class ScalarGemm implements GemmKernel {
  /** Creates the kernel. */
  public ScalarGemm() {}

  @Override
  public void matmul(
      float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
      int m, int k, int n, boolean accumulate) {
    columns(a, aOff, b, bOff, c, cOff, m, k, n, 0, accumulate);
  }

  @Override
  public void ternarizeRows(float[] w, int off, int rows, int cols, float[] q, float[] scales) {
    for (int r = 0; r < rows; r++) {
      int base = off + r * cols;
      float scale = absmeanScale(w, base, cols);
      scales[r] = scale;
      int qb = r * cols;
      for (int c = 0; c < cols; c++) {
        float v = w[base + c] / scale;
        q[qb + c] = v >= 0.5f ? 1f : v <= -0.5f ? -1f : 0f;
      }
    }
  }

  /** The float sum of |w| in column order over the row length; 1 for an all-zero row. */
  static float absmeanScale(float[] w, int base, int cols) {
    float sum = 0f;
    for (int c = 0; c < cols; c++) {
      sum += Math.abs(w[base + c]);
    }
    float scale = sum / cols;
    return scale == 0f ? 1f : scale;
  }

  /** The reference loop over columns {@code j0..n} only (the vector kernel's column tail). */
  static void columns(
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
}
