package dev.aphelion.tritter.inference;

import dev.aphelion.core.error.ShapeException;
import java.util.Objects;

/**
 * A linear layer with f32 weights: the dense baseline twin of {@link TernaryLayer}.
 */
public final class DenseLayer implements LinearLayer {

  private final int in;
  private final int out;
  private final float[] weights;
  private final float[] bias;
  private final FloatKernels ops;

  private DenseLayer(float[] weights, int out, int in, float[] bias, FloatKernels ops) {
    this.in = in;
    this.out = out;
    this.weights = weights;
    this.bias = bias;
    this.ops = ops;
  }

  /**
   * Creates a layer from row-major weights of shape {@code [outFeatures, inFeatures]}.
   *
   * @param weights the weights; copied
   * @param outFeatures rows
   * @param inFeatures columns
   * @param bias {@code outFeatures} biases, or {@code null}; copied
   * @return the layer
   * @throws ShapeException if a length does not match or a value is not finite
   */
  public static DenseLayer of(float[] weights, int outFeatures, int inFeatures, float[] bias) {
    return of(weights, outFeatures, inFeatures, bias, FloatKernels.get());
  }

  static DenseLayer of(float[] weights, int outFeatures, int inFeatures, float[] bias, FloatKernels ops) {
    Objects.requireNonNull(weights, "weights");
    LayerChecks.checkWeights("dense", weights, outFeatures, inFeatures, bias);
    return new DenseLayer(weights.clone(), outFeatures, inFeatures, bias == null ? null : bias.clone(), ops);
  }

  @Override
  public int inFeatures() {
    return in;
  }

  @Override
  public int outFeatures() {
    return out;
  }

  @Override
  public void forward(float[] x, float[] y, int rows) {
    LayerChecks.checkForward(x, y, rows, in, out);
    Parallel.forRange(out, Math.max(1, 16384 / Math.max(1, in)), (from, to) -> {
      for (int r = 0; r < rows; r++) {
        int xo = r * in;
        int yo = r * out;
        for (int o = from; o < to; o++) {
          float s = ops.dot(weights, o * in, x, xo, in);
          y[yo + o] = bias == null ? s : s + bias[o];
        }
      }
    });
  }

  /** A copy of the weights, row-major {@code [outFeatures, inFeatures]}. */
  public float[] weights() {
    return weights.clone();
  }

  /** A copy of the bias, if any. */
  public java.util.Optional<float[]> bias() {
    return java.util.Optional.ofNullable(bias).map(float[]::clone);
  }

  @Override
  public long memoryBytes() {
    return (long) weights.length * Float.BYTES + (bias == null ? 0 : (long) bias.length * Float.BYTES);
  }

  @Override
  public String toString() {
    return "DenseLayer[" + out + "x" + in + (bias != null ? ", bias" : "") + "]";
  }
}
