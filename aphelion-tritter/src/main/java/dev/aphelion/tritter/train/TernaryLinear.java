package dev.aphelion.tritter.train;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.dense.DenseMatmul;
import dev.aphelion.tritter.nn.TernaryLayer;
import dev.aphelion.tritter.quant.Int8Activations;
import dev.aphelion.tritter.ternary.TernaryQuantization;
import dev.aphelion.tritter.ternary.TernaryQuantized;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A trainable BitNet b1.58 linear layer: quantization-aware training with latent float32 weights.
 *
 * <p><b>Forward.</b> The latent weights {@code W [out × in]} are quantized with absmean, one scale
 * per output row ({@link TernaryQuantization#absmean}: {@code s_w = mean|W_row|},
 * {@code q = clamp(round(W / s_w), -1, 1)}); the input rows are quantized per token to int8
 * ({@link Int8Activations}: {@code s_x = max|x| / 127}); the product is the inference layer
 * {@link TernaryLayer} in {@link TernaryLayer.Activations#INT8} mode itself, so
 * {@link #export} gives a layer that computes exactly the training forward pass.
 *
 * <p><b>Backward (straight-through estimator).</b> Both quantizers are treated as the identity:
 * {@code dW = dyᵀ · (q_x · s_x)} is applied to the latent weights, and the input gradient is
 * {@code dx = dy · (q · s_w)}, passed through the activation quantizer unchanged; the bias
 * gradient is {@code Σ dy}.
 */
public final class TernaryLinear implements TrainableLayer {
  private static final long serialVersionUID = 1L;

  private final int in;
  private final int out;
  private final boolean bias;
  private transient float[] xDequantized;
  private transient float[] wDequantized;
  private transient LinearGrad grad;

  /**
   * Creates the layer.
   *
   * @param in input width, at least 1
   * @param out output width, at least 1
   * @param bias whether the layer has a float32 bias
   * @throws ShapeException if a width is not positive
   */
  public TernaryLinear(int in, int out, boolean bias) {
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

  /** He-normal latent weights ({@code sqrt(2 / in)}), zero bias. */
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

  /**
   * The ternary weights the forward pass uses for the given latent weights.
   *
   * @param params the model's parameter vector
   * @param offset where this layer's parameters start
   * @return trits and one scale per output row
   */
  public TernaryQuantized quantized(float[] params, int offset) {
    return TernaryQuantization.absmean(Arrays.copyOfRange(params, offset, offset + in * out), out, in, in);
  }

  private TernaryLayer layer(TernaryQuantized q, float[] params, int offset) {
    float[] b = bias ? Arrays.copyOfRange(params, offset + in * out, offset + in * out + out) : null;
    return TernaryLayer.of(q.toPacked(), b, TernaryLayer.Activations.INT8);
  }

  @Override
  public float[] forward(float[] params, int offset, float[] input, int rows) {
    TernaryQuantized q = quantized(params, offset);
    TernaryLayer layer = layer(q, params, offset);
    float[] x = Arrays.copyOf(input, rows * in);
    float[] y = new float[rows * out];
    layer.forward(x, y, rows);
    xDequantized = Int8Activations.quantize(x, rows, in).dequantize();
    wDequantized = q.dequantize();
    return y;
  }

  @Override
  public float[] backward(float[] params, float[] grads, int offset, float[] dy, int rows, boolean needInput) {
    if (xDequantized == null || xDequantized.length != rows * in) {
      throw new IllegalStateException("backward of " + rows + " rows without a matching forward pass");
    }
    if (grad == null) {
      grad = new LinearGrad();
    }
    return grad.backward(DenseMatmul.get(), wDequantized, in, out, xDequantized, dy, rows, grads, offset,
        bias ? offset + in * out : -1, needInput);
  }

  @Override
  public TrainableLayer fresh() {
    return new TernaryLinear(in, out, bias);
  }

  @Override
  public InferenceNetwork.Stage export(float[] params, int offset) {
    return new InferenceNetwork.Linear(layer(quantized(params, offset), params, offset));
  }

  @Override
  public String toString() {
    return "TernaryLinear[" + in + " -> " + out + (bias ? ", bias" : "") + "]";
  }
}
