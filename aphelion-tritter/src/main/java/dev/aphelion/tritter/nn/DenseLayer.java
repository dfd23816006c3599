package dev.aphelion.tritter.nn;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.dense.DenseMatmul;
import java.util.Arrays;
import java.util.Objects;

/**
 * A linear layer with f32 weights on {@link DenseMatmul} (Vector API FMA GEMV/GEMM): the dense
 * baseline twin of {@link TernaryLayer}. Immutable and safe for concurrent use.
 */
public final class DenseLayer implements LinearLayer {

  private final int in;
  private final int out;
  private final float[] weights;
  private final float[] bias;
  private final DenseMatmul matmul;

  private DenseLayer(float[] weights, int out, int in, float[] bias, DenseMatmul matmul) {
    this.in = in;
    this.out = out;
    this.weights = weights;
    this.bias = bias;
    this.matmul = matmul;
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
    Objects.requireNonNull(weights, "weights");
    LayerChecks.checkWeights("dense", weights, outFeatures, inFeatures, bias);
    return new DenseLayer(weights.clone(), outFeatures, inFeatures, bias == null ? null : bias.clone(), DenseMatmul.get());
  }

  /**
   * The same layer running on other kernels (tests pin the scalar reference).
   *
   * @param matmul the kernels
   * @return a layer sharing this one's weights
   */
  public DenseLayer withMatmul(DenseMatmul matmul) {
    return new DenseLayer(weights, out, in, bias, Objects.requireNonNull(matmul, "matmul"));
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
    float[] xs = x.length == rows * in ? x : Arrays.copyOf(x, rows * in);
    float[] ys = y.length == rows * out ? y : new float[rows * out];
    matmul.gemm(weights, out, in, xs, rows, ys, bias);
    if (ys != y) {
      System.arraycopy(ys, 0, y, 0, rows * out);
    }
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
