package dev.aphelion.tritter.train;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.dense.DenseMatmul;
import dev.aphelion.tritter.nn.DenseLayer;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A trainable float32 linear layer {@code y = x·Wᵀ + b}, with {@code W} stored row-major
 * {@code [out × in]} followed by the optional bias {@code [out]}. The forward pass is the
 * inference layer {@link DenseLayer} itself, so the exported layer computes the same values.
 */
public final class DenseLinear implements TrainableLayer {
  private static final long serialVersionUID = 1L;

  private final int in;
  private final int out;
  private final boolean bias;
  private transient float[] x;
  private transient float[] w;
  private transient LinearGrad grad;

  /**
   * Creates the layer.
   *
   * @param in input width, at least 1
   * @param out output width, at least 1
   * @param bias whether the layer has a bias
   * @throws ShapeException if a width is not positive
   */
  public DenseLinear(int in, int out, boolean bias) {
    if (in < 1 || out < 1) {
      throw new ShapeException("a linear layer needs positive widths, got " + in + " -> " + out);
    }
    this.in = in;
    this.out = out;
    this.bias = bias;
  }

  @Override
  public int inFeatures() {
    return in;
  }

  @Override
  public int outFeatures() {
    return out;
  }

  /** Whether the layer has a bias. */
  public boolean hasBias() {
    return bias;
  }

  @Override
  public int parameterCount() {
    return in * out + (bias ? out : 0);
  }

  /** He-normal weights ({@code sqrt(2 / in)}), zero bias. */
  @Override
  public void initialize(float[] params, int offset, SplittableRandom random) {
    double std = Math.sqrt(2.0 / in);
    for (int k = 0; k < in * out; k++) {
      params[offset + k] = (float) (Buffers.gaussian(random) * std);
    }
    if (bias) {
      Arrays.fill(params, offset + in * out, offset + in * out + out, 0f);
    }
  }

  private DenseLayer layer(float[] params, int offset) {
    float[] weights = Arrays.copyOfRange(params, offset, offset + in * out);
    float[] b = bias ? Arrays.copyOfRange(params, offset + in * out, offset + in * out + out) : null;
    return DenseLayer.of(weights, out, in, b);
  }

  @Override
  public float[] forward(float[] params, int offset, float[] input, int rows) {
    DenseLayer layer = layer(params, offset);
    x = Arrays.copyOf(input, rows * in);
    w = Arrays.copyOfRange(params, offset, offset + in * out);
    float[] y = new float[rows * out];
    layer.forward(x, y, rows);
    return y;
  }

  @Override
  public float[] backward(float[] params, float[] grads, int offset, float[] dy, int rows, boolean needInput) {
    if (x == null || x.length != rows * in) {
      throw new IllegalStateException("backward of " + rows + " rows without a matching forward pass");
    }
    if (grad == null) {
      grad = new LinearGrad();
    }
    return grad.backward(DenseMatmul.get(), w, in, out, x, dy, rows, grads, offset,
        bias ? offset + in * out : -1, needInput);
  }

  @Override
  public TrainableLayer fresh() {
    return new DenseLinear(in, out, bias);
  }

  @Override
  public InferenceNetwork.Stage export(float[] params, int offset) {
    return new InferenceNetwork.Linear(layer(params, offset));
  }

  @Override
  public String toString() {
    return "DenseLinear[" + in + " -> " + out + (bias ? ", bias" : "") + "]";
  }
}
