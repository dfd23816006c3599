package dev.aphelion.tritter.nn;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.quant.Int8Activations;
import dev.aphelion.tritter.ternary.PackedTernary;
import dev.aphelion.tritter.ternary.TernaryMatmul;
import dev.aphelion.tritter.ternary.TernaryQuantization;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * A BitNet b1.58 linear layer: packed ternary weights (2 bits each) with f32 scales per row or per
 * group, an optional f32 bias, and either f32 or per-token int8 activations.
 *
 * <p>The weights are quantized exactly once, when the layer is created (the Rust original
 * re-quantized them on every forward call). {@code forward} then runs {@link TernaryMatmul}: one
 * token is a GEMV, several tokens a GEMM that reads the weights once for the whole batch.
 *
 * <p>Immutable and safe for concurrent use.
 */
public final class TernaryLayer implements LinearLayer {

  /** How the layer treats its input. */
  public enum Activations {
    /** Inputs stay f32: {@code y = (W·x) ⊙ scale + b}. */
    FLOAT32,
    /**
     * Inputs are quantized per token to int8 ({@code scale = max|x|/127}) before the product, as
     * BitNet b1.58 does (W1.58A8): {@code y = (W·q) ⊙ scale · xScale + b}.
     */
    INT8
  }

  private final PackedTernary weights;
  private final float[] bias;
  private final Activations activations;
  private final TernaryMatmul matmul;

  private TernaryLayer(PackedTernary weights, float[] bias, Activations activations, TernaryMatmul matmul) {
    this.weights = weights;
    this.bias = bias;
    this.activations = activations;
    this.matmul = matmul;
    if (activations == Activations.INT8) {
      matmul.prepareInt8(weights); // at load time, not on the first token
    }
  }

  /**
   * Quantizes f32 weights with absmean, one scale per row (BitNet b1.58), once.
   *
   * @param weights {@code [outFeatures, inFeatures]} row-major; not retained
   * @param outFeatures rows
   * @param inFeatures columns
   * @param bias {@code outFeatures} biases, or {@code null}; copied
   * @param activations f32 or int8 inputs
   * @return the layer
   * @throws ShapeException on a length mismatch or a non-finite value
   */
  public static TernaryLayer quantize(float[] weights, int outFeatures, int inFeatures, float[] bias, Activations activations) {
    return quantize(weights, outFeatures, inFeatures, inFeatures, bias, activations);
  }

  /**
   * Quantizes f32 weights with absmean and one scale per group of {@code groupSize} columns, once.
   *
   * @param weights {@code [outFeatures, inFeatures]} row-major; not retained
   * @param outFeatures rows
   * @param inFeatures columns
   * @param groupSize columns per scale group ({@code inFeatures} for one scale per row)
   * @param bias {@code outFeatures} biases, or {@code null}; copied
   * @param activations f32 or int8 inputs
   * @return the layer
   * @throws ShapeException on a length mismatch or a non-finite value
   */
  public static TernaryLayer quantize(float[] weights, int outFeatures, int inFeatures, int groupSize, float[] bias, Activations activations) {
    Objects.requireNonNull(weights, "weights");
    Objects.requireNonNull(activations, "activations");
    LayerChecks.checkWeights("ternary", weights, outFeatures, inFeatures, bias);
    PackedTernary packed = TernaryQuantization.absmean(weights, outFeatures, inFeatures, groupSize).toPacked();
    return new TernaryLayer(packed, bias == null ? null : bias.clone(), activations, TernaryMatmul.get());
  }

  /**
   * Wraps already packed weights.
   *
   * @param weights the packed matrix {@code [outFeatures, inFeatures]}
   * @param bias {@code weights.rows()} biases, or {@code null}; copied
   * @param activations f32 or int8 inputs
   * @return the layer
   * @throws ShapeException if the bias length or a bias value is wrong
   */
  public static TernaryLayer of(PackedTernary weights, float[] bias, Activations activations) {
    Objects.requireNonNull(weights, "weights");
    Objects.requireNonNull(activations, "activations");
    LayerChecks.checkBias("ternary", bias, weights.rows());
    return new TernaryLayer(weights, bias == null ? null : bias.clone(), activations, TernaryMatmul.get());
  }

  /**
   * The same layer running on other kernels (tests pin the scalar reference; benchmarks a pool).
   *
   * @param matmul the kernels
   * @return a layer sharing this one's weights
   */
  public TernaryLayer withMatmul(TernaryMatmul matmul) {
    return new TernaryLayer(weights, bias, activations, Objects.requireNonNull(matmul, "matmul"));
  }

  /**
   * The same weights with another activation mode.
   *
   * @param activations f32 or int8 inputs
   * @return a layer sharing this one's weights
   */
  public TernaryLayer withActivations(Activations activations) {
    return new TernaryLayer(weights, bias, Objects.requireNonNull(activations, "activations"), matmul);
  }

  /**
   * Expands packed weights to f32: {@code trit · scale} for every element, row-major.
   *
   * @param p the packed matrix
   * @return {@code rows·cols} values
   */
  public static float[] dequantize(PackedTernary p) {
    byte[] t = p.toTrits();
    float[] out = new float[t.length];
    int cols = p.cols();
    for (int r = 0; r < p.rows(); r++) {
      for (int c = 0; c < cols; c++) {
        out[r * cols + c] = t[r * cols + c] * p.scale(r, c / p.groupSize());
      }
    }
    return out;
  }

  @Override
  public int inFeatures() {
    return weights.cols();
  }

  @Override
  public int outFeatures() {
    return weights.rows();
  }

  /** The packed weights. */
  public PackedTernary packed() {
    return weights;
  }

  /** A copy of the bias, if any. */
  public Optional<float[]> bias() {
    return Optional.ofNullable(bias).map(float[]::clone);
  }

  /** The activation mode. */
  public Activations activations() {
    return activations;
  }

  @Override
  public void forward(float[] x, float[] y, int rows) {
    int in = weights.cols();
    int out = weights.rows();
    LayerChecks.checkForward(x, y, rows, in, out);
    // The kernels want exact lengths; callers may pass larger scratch arrays.
    float[] xs = x.length == rows * in ? x : Arrays.copyOf(x, rows * in);
    float[] ys = y.length == rows * out ? y : new float[rows * out];
    if (activations == Activations.INT8) {
      Int8Activations q = Int8Activations.quantize(matmul.vectorization(), xs, rows, in);
      matmul.gemmInt8(weights, q, ys, bias);
    } else {
      matmul.gemm(weights, xs, rows, ys, bias);
    }
    if (ys != y) {
      System.arraycopy(ys, 0, y, 0, rows * out);
    }
  }

  /**
   * Applies several layers to the same input (a block's q, k and v projections, or gate and up):
   * the same outputs, bit for bit, as {@code layers[i].forward(x, y[i], rows)} for each {@code i}.
   * When all take int8 activations on the same kernels and input width, {@code x} is quantized
   * once and the products run together ({@link TernaryMatmul#gemmInt8(PackedTernary[],
   * Int8Activations, float[][], float[][])}: one pool job instead of one per layer); otherwise
   * each layer runs on its own.
   *
   * @param layers at least one layer
   * @param x {@code rows·inFeatures} inputs
   * @param y one output per layer, receiving {@code rows·outFeatures} values (overwritten);
   *     distinct arrays, none of them {@code x}
   * @param rows number of rows (tokens), at least 1
   * @throws ShapeException if a count or an array length does not match, or an output is shared
   *     or is {@code x}
   */
  public static void forwardShared(TernaryLayer[] layers, float[] x, float[][] y, int rows) {
    Objects.requireNonNull(layers, "layers");
    Objects.requireNonNull(x, "x");
    Objects.requireNonNull(y, "y");
    if (layers.length == 0 || y.length != layers.length) {
      throw new ShapeException("forwardShared takes at least one layer and one output per layer; got " + layers.length
          + " layers and " + y.length + " outputs");
    }
    TernaryLayer first = Objects.requireNonNull(layers[0], "layers[0]");
    boolean shared = true;
    for (int i = 0; i < layers.length; i++) {
      TernaryLayer l = Objects.requireNonNull(layers[i], "layers[" + i + "]");
      LayerChecks.checkForward(x, Objects.requireNonNull(y[i], "y[" + i + "]"), rows, l.inFeatures(), l.outFeatures());
      if (y[i] == x) {
        throw new ShapeException("y[" + i + "] is the input array; the other layers still read it");
      }
      for (int j = 0; j < i; j++) {
        if (y[i] == y[j]) {
          throw new ShapeException("y[" + i + "] is the same array as y[" + j + "]; each layer needs its own output");
        }
      }
      shared &= l.activations == Activations.INT8 && l.matmul == first.matmul && l.inFeatures() == first.inFeatures();
    }
    if (!shared) {
      for (int i = 0; i < layers.length; i++) {
        layers[i].forward(x, y[i], rows);
      }
      return;
    }
    int in = first.inFeatures();
    float[] xs = x.length == rows * in ? x : Arrays.copyOf(x, rows * in);
    Int8Activations q = Int8Activations.quantize(first.matmul.vectorization(), xs, rows, in);
    PackedTernary[] ws = new PackedTernary[layers.length];
    float[][] ys = new float[layers.length][];
    float[][] bs = new float[layers.length][];
    for (int i = 0; i < layers.length; i++) {
      int out = layers[i].outFeatures();
      ws[i] = layers[i].weights;
      bs[i] = layers[i].bias;
      ys[i] = y[i].length == rows * out ? y[i] : new float[rows * out];
    }
    first.matmul.gemmInt8(ws, q, ys, bs);
    for (int i = 0; i < layers.length; i++) {
      if (ys[i] != y[i]) {
        System.arraycopy(ys[i], 0, y[i], 0, ys[i].length);
      }
    }
  }

  @Override
  public long memoryBytes() {
    return weights.memoryBytes() + (bias == null ? 0 : (long) bias.length * Float.BYTES);
  }

  @Override
  public String toString() {
    return "TernaryLayer[" + weights.rows() + "x" + weights.cols() + ", groupSize=" + weights.groupSize() + ", " + activations
        + (bias != null ? ", bias" : "") + "]";
  }
}
