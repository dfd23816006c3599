package dev.aphelion.examples.fashion.nn;

/**
 * The two quantizers of BitNet b1.58, in the conventions of {@code dev.aphelion.tritter.quant}:
 * absmean ternarization of weights per row and absmax int8 quantization of activations per row.
 * Values are written as integer-valued floats so that the trainer's float products over them are
 * exact (every partial sum is an integer far below 2<sup>24</sup>).
 */
public final class Quantizer {
  /** The largest int8 activation magnitude (symmetric range, -128 unused). */
  public static final int ACTIVATION_LEVELS = 127;

  private Quantizer() {}

  /**
   * Rounds half away from zero (so ±0.5 → ±1), unlike {@link Math#round(float)}, which rounds
   * -0.5 up to 0.
   *
   * @param v the value
   * @return the nearest integer, ties away from zero
   */
  public static float roundHalfAway(float v) {
    // 0f - x turns -0 into +0, so zeros compare equal to the packed kernels' zeros
    return v >= 0 ? (float) Math.floor(v + 0.5f) : 0f - (float) Math.floor(-v + 0.5f);
  }

  /**
   * Absmean ternarization of each row: {@code scale = mean|w|} (1 for an all-zero row),
   * {@code q = clamp(round(w / scale), -1, 1)}.
   *
   * @param w weights, row-major {@code rows × cols} at {@code off}
   * @param off offset of the matrix
   * @param rows rows (output features)
   * @param cols columns (input features)
   * @param q receives {@code rows × cols} values in {-1, 0, 1}
   * @param scales receives one scale per row
   */
  public static void ternarizeRows(
      float[] w, int off, int rows, int cols, float[] q, float[] scales) {
    for (int r = 0; r < rows; r++) {
      int base = off + r * cols;
      double sum = 0;
      for (int c = 0; c < cols; c++) {
        sum += Math.abs(w[base + c]);
      }
      float scale = (float) (sum / cols);
      if (scale == 0f) {
        scale = 1f;
      }
      scales[r] = scale;
      for (int c = 0; c < cols; c++) {
        float v = roundHalfAway(w[base + c] / scale);
        q[r * cols + c] = Math.max(-1f, Math.min(1f, v));
      }
    }
  }

  /**
   * Absmax int8 quantization of one row in place: {@code scale = max|x| / 127} (1 for an all-zero
   * row), {@code x ← clamp(round(x / scale), -127, 127)}.
   *
   * @param x the values; overwritten by integers in [-127, 127]
   * @param off start of the row
   * @param n row length
   * @return the scale
   */
  public static float quantizeActivationRow(float[] x, int off, int n) {
    float max = 0f;
    for (int i = off; i < off + n; i++) {
      max = Math.max(max, Math.abs(x[i]));
    }
    float scale = max == 0f ? 1f : max / ACTIVATION_LEVELS;
    for (int i = off; i < off + n; i++) {
      float v = roundHalfAway(x[i] / scale);
      x[i] = Math.max(-ACTIVATION_LEVELS, Math.min(ACTIVATION_LEVELS, v));
    }
    return scale;
  }
}
