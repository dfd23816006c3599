package dev.aphelion.examples.fashion.nn;

/**
 * Root-mean-square normalization of one row, {@code y_i = x_i / sqrt(mean(x²) + eps) · g_i}, as
 * BitNet puts before every quantized linear layer. Training and inference call this same code so
 * that a packed model reproduces the trained one's activations bit for bit.
 */
public final class RmsNorm {
  /** The epsilon under the root. */
  public static final float EPS = 1e-5f;

  private RmsNorm() {}

  /**
   * Normalizes one row.
   *
   * @param x input array
   * @param xOff start of the row
   * @param n row length
   * @param gain gains array, or null for unit gains
   * @param gOff start of the gains
   * @param y output array (may be {@code x})
   * @param yOff start of the output row
   * @return {@code 1 / sqrt(mean(x²) + eps)}, which the backward pass needs
   */
  public static float apply(float[] x, int xOff, int n, float[] gain, int gOff, float[] y, int yOff) {
    float ss = 0f;
    for (int i = 0; i < n; i++) {
      ss += x[xOff + i] * x[xOff + i];
    }
    float ri = (float) (1.0 / Math.sqrt(ss / n + EPS));
    if (gain != null) {
      for (int i = 0; i < n; i++) {
        y[yOff + i] = x[xOff + i] * ri * gain[gOff + i];
      }
    } else {
      for (int i = 0; i < n; i++) {
        y[yOff + i] = x[xOff + i] * ri;
      }
    }
    return ri;
  }
}
