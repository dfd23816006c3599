package dev.aphelion.tritter.train;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.nn.RmsNorm;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Trainable root-mean-square normalization, {@code y_i = x_i · r · g_i} with
 * {@code r = 1 / sqrt(mean(x²) + eps)} and a learned gain {@code g [width]} (initialized to 1).
 * The forward pass is the inference {@link RmsNorm}; the backward pass is
 * {@code dg_i = Σ_rows dy_i x_i r} and {@code dx_i = r g_i dy_i − x_i r³ (Σ_j g_j dy_j x_j) / n}.
 */
public final class RmsNormLayer implements TrainableLayer {
  private static final long serialVersionUID = 1L;

  private final int width;
  private final float eps;
  private transient float[] x;

  /**
   * Creates the norm.
   *
   * @param width the number of features, at least 1
   * @param eps the epsilon under the root, positive
   * @throws ShapeException if the width is not positive or eps is not a positive finite value
   */
  public RmsNormLayer(int width, float eps) {
    if (width < 1) {
      throw new ShapeException("RMSNorm width must be at least 1, got " + width);
    }
    if (!(eps > 0) || Float.isInfinite(eps)) {
      throw new ShapeException("RMSNorm eps must be positive and finite, got " + eps);
    }
    this.width = width;
    this.eps = eps;
  }

  @Override
  public int inFeatures() {
    return width;
  }

  @Override
  public int outFeatures() {
    return width;
  }

  /** The epsilon under the root. */
  public float eps() {
    return eps;
  }

  @Override
  public int parameterCount() {
    return width;
  }

  @Override
  public void initialize(float[] params, int offset, SplittableRandom random) {
    Arrays.fill(params, offset, offset + width, 1f);
  }

  private RmsNorm norm(float[] params, int offset) {
    return new RmsNorm(Arrays.copyOfRange(params, offset, offset + width), eps);
  }

  @Override
  public float[] forward(float[] params, int offset, float[] input, int rows) {
    x = Arrays.copyOf(input, rows * width);
    float[] y = new float[rows * width];
    norm(params, offset).apply(x, y, rows);
    return y;
  }

  @Override
  public float[] backward(float[] params, float[] grads, int offset, float[] dy, int rows, boolean needInput) {
    if (x == null || x.length != rows * width) {
      throw new IllegalStateException("backward of " + rows + " rows without a matching forward pass");
    }
    int n = width;
    float[] dx = needInput ? new float[rows * n] : null;
    for (int r = 0; r < rows; r++) {
      int base = r * n;
      double ss = 0;
      for (int i = 0; i < n; i++) {
        ss += (double) x[base + i] * x[base + i];
      }
      double ri = 1.0 / Math.sqrt(ss / n + eps);
      double dot = 0;
      for (int i = 0; i < n; i++) {
        double gdy = params[offset + i] * (double) dy[base + i];
        dot += gdy * x[base + i];
        grads[offset + i] += (float) (dy[base + i] * x[base + i] * ri);
      }
      if (dx != null) {
        double coef = ri * ri * ri * dot / n;
        for (int i = 0; i < n; i++) {
          dx[base + i] = (float) (ri * params[offset + i] * dy[base + i] - x[base + i] * coef);
        }
      }
    }
    return dx;
  }

  @Override
  public TrainableLayer fresh() {
    return new RmsNormLayer(width, eps);
  }

  @Override
  public InferenceNetwork.Stage export(float[] params, int offset) {
    return new InferenceNetwork.Norm(norm(params, offset), eps);
  }

  @Override
  public String toString() {
    return "RmsNorm[" + width + "]";
  }
}
