package dev.aphelion.tritter.ternary;

import dev.aphelion.core.error.ShapeException;
import java.util.Objects;

/**
 * Ternary weight quantization (BitNet b1.58), per row or per group of columns, with the rounding
 * rules of the Rust originals (seed-semantics §3):
 *
 * <ul>
 *   <li>{@link #absmean}: {@code scale = mean|w|} over the group (1.0 if that is 0), {@code q =
 *       clamp(round(w / scale), -1, 1)} with round half away from zero, so {@code |w/scale| = 0.5}
 *       gives ±1.
 *   <li>{@link #absmax}: {@code scale = max|w|} (1.0 if {@code <= 1e-10}), {@code q = +1} if {@code
 *       w/scale > 0.5}, {@code -1} if {@code < -0.5}, else 0 (strict: 0.5 gives 0).
 * </ul>
 *
 * The last group of a row may be shorter than {@code groupSize}. The mean is the float sum of the
 * absolute values in column order divided by the group's length; if that float sum overflows
 * (weights near {@link Float#MAX_VALUE}) it is taken in double instead, so the scale stays finite
 * (it is at most the largest {@code |w|}).
 */
public final class TernaryQuantization {

  private TernaryQuantization() {}

  /**
   * BitNet b1.58 absmean quantization.
   *
   * @param w {@code rows * cols} finite weights, row-major
   * @param rows number of rows
   * @param cols number of columns
   * @param groupSize columns per scale group ({@code cols} for one scale per row)
   * @return trits and scales
   * @throws ShapeException on a bad shape or a NaN/infinite weight (naming its index)
   */
  public static TernaryQuantized absmean(float[] w, int rows, int cols, int groupSize) {
    check(w, rows, cols, groupSize);
    int groups = (cols + groupSize - 1) / groupSize;
    byte[] trits = new byte[rows * cols];
    float[] scales = new float[rows * groups];
    for (int r = 0; r < rows; r++) {
      for (int g = 0; g < groups; g++) {
        int c0 = g * groupSize;
        int c1 = Math.min(cols, c0 + groupSize);
        float sum = 0f;
        for (int c = c0; c < c1; c++) {
          sum += Math.abs(w[r * cols + c]);
        }
        float scale = sum / (c1 - c0);
        if (scale == Float.POSITIVE_INFINITY) {
          // The float sum overflowed; the mean itself is finite, so take it in double.
          double wide = 0;
          for (int c = c0; c < c1; c++) {
            wide += Math.abs(w[r * cols + c]);
          }
          scale = (float) (wide / (c1 - c0));
        }
        if (scale == 0f) {
          scale = 1f;
        }
        scales[r * groups + g] = scale;
        for (int c = c0; c < c1; c++) {
          float v = w[r * cols + c] / scale;
          // round half away from zero, then clamp to [-1, 1]: |v| >= 0.5 -> sign(v)
          trits[r * cols + c] = (byte) (v >= 0.5f ? 1 : v <= -0.5f ? -1 : 0);
        }
      }
    }
    return new TernaryQuantized(trits, rows, cols, scales, groupSize);
  }

  /**
   * Absmax ternary quantization.
   *
   * @param w {@code rows * cols} finite weights, row-major
   * @param rows number of rows
   * @param cols number of columns
   * @param groupSize columns per scale group ({@code cols} for one scale per row)
   * @return trits and scales
   * @throws ShapeException on a bad shape or a NaN/infinite weight (naming its index)
   */
  public static TernaryQuantized absmax(float[] w, int rows, int cols, int groupSize) {
    check(w, rows, cols, groupSize);
    int groups = (cols + groupSize - 1) / groupSize;
    byte[] trits = new byte[rows * cols];
    float[] scales = new float[rows * groups];
    for (int r = 0; r < rows; r++) {
      for (int g = 0; g < groups; g++) {
        int c0 = g * groupSize;
        int c1 = Math.min(cols, c0 + groupSize);
        float max = 0f;
        for (int c = c0; c < c1; c++) {
          max = Math.max(max, Math.abs(w[r * cols + c]));
        }
        float scale = max <= 1e-10f ? 1f : max;
        scales[r * groups + g] = scale;
        for (int c = c0; c < c1; c++) {
          float v = w[r * cols + c] / scale;
          trits[r * cols + c] = (byte) (v > 0.5f ? 1 : v < -0.5f ? -1 : 0);
        }
      }
    }
    return new TernaryQuantized(trits, rows, cols, scales, groupSize);
  }

  private static void check(float[] w, int rows, int cols, int groupSize) {
    Objects.requireNonNull(w, "w");
    if (rows < 1 || cols < 1) {
      throw new ShapeException("matrix shape must be at least 1x1, got " + rows + "x" + cols);
    }
    if (groupSize < 1 || groupSize > cols) {
      throw new ShapeException("groupSize must be in [1, cols=" + cols + "], got " + groupSize);
    }
    if (w.length != (long) rows * cols) {
      throw new ShapeException("weights have length " + w.length + " but rows*cols = " + rows + "*" + cols + " = " + (long) rows * cols);
    }
    for (int i = 0; i < w.length; i++) {
      if (!Float.isFinite(w[i])) {
        throw new ShapeException("weight at index " + i + " (row " + i / cols + ", col " + i % cols + ") is " + w[i] + "; weights must be finite");
      }
    }
  }
}
