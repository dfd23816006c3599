package dev.aphelion.tritter.nn;

import dev.aphelion.core.error.ShapeException;

/** Root-mean-square normalization: {@code y = x / sqrt(mean(x²) + eps) ⊙ weight}. */
public final class RmsNorm {
  private final float[] weight;
  private final float eps;
  private final FloatKernels ops;

  /**
   * Creates the norm.
   *
   * @param weight the per-feature gain; copied
   * @param eps the epsilon added to the mean square
   */
  public RmsNorm(float[] weight, float eps) {
    this(weight, eps, FloatKernels.get());
  }

  RmsNorm(float[] weight, float eps, FloatKernels ops) {
    for (int i = 0; i < weight.length; i++) {
      if (!Float.isFinite(weight[i])) {
        throw new ShapeException("RMSNorm weight [" + i + "] is " + weight[i]);
      }
    }
    this.weight = weight.clone();
    this.eps = eps;
    this.ops = ops;
  }

  /** Number of features. */
  public int size() {
    return weight.length;
  }

  /** A copy of the gain. */
  public float[] weight() {
    return weight.clone();
  }

  /**
   * Normalizes {@code rows} rows of {@link #size()} features.
   *
   * @param x input rows
   * @param y output rows (may be {@code x})
   * @param rows number of rows
   */
  public void apply(float[] x, float[] y, int rows) {
    int n = weight.length;
    for (int r = 0; r < rows; r++) {
      int o = r * n;
      float inv = (float) (1.0 / Math.sqrt(ops.sumSquares(x, o, n) / n + eps));
      for (int i = 0; i < n; i++) {
        y[o + i] = x[o + i] * inv * weight[i];
      }
    }
  }
}
