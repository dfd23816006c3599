package dev.aphelion.tritter.train;

import dev.aphelion.core.error.ShapeException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A trainable feed-forward model: a chain of {@link TrainableLayer}s over one flat parameter
 * vector and one flat gradient vector of the same length, which is all an optimizer, a
 * {@link GradientExchange} or a checkpoint needs to see.
 *
 * <p>Build one with {@link #builder(int)}, for example a BitNet-style classifier
 * {@code builder(64).rmsNorm().ternary(128).relu().rmsNorm().ternary(10).build(seed)}. Call
 * {@link #forward}, then {@link #backward} with the loss gradient; gradients accumulate until
 * {@link #zeroGradients()}. Not thread-safe: one instance per worker ({@link #copy()}).
 */
public final class Sequential implements Serializable {
  private static final long serialVersionUID = 1L;

  private final List<TrainableLayer> layers;
  private final int[] offsets;
  private final float[] params;
  private transient float[] grads;
  private transient int lastRows;

  private Sequential(List<TrainableLayer> layers, float[] params) {
    this.layers = List.copyOf(layers);
    this.offsets = new int[layers.size()];
    int off = 0;
    for (int l = 0; l < layers.size(); l++) {
      offsets[l] = off;
      off += layers.get(l).parameterCount();
    }
    if (params.length != off) {
      throw new ShapeException("the layers hold " + off + " parameters, given " + params.length);
    }
    this.params = params;
  }

  /**
   * Starts a model.
   *
   * @param inputs the input width, at least 1
   * @return a builder
   */
  public static Builder builder(int inputs) {
    return new Builder(inputs);
  }

  /**
   * Creates a model from layers whose widths chain, initialized from {@code seed}.
   *
   * @param layers the layers, input first
   * @param seed the initialization seed
   * @return the model
   * @throws ShapeException if the widths do not chain or there is no layer
   */
  public static Sequential of(List<TrainableLayer> layers, long seed) {
    checkChain(layers);
    int n = 0;
    for (TrainableLayer l : layers) {
      n += l.parameterCount();
    }
    Sequential s = new Sequential(layers, new float[n]);
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int l = 0; l < layers.size(); l++) {
      layers.get(l).initialize(s.params, s.offsets[l], rnd);
    }
    return s;
  }

  private static void checkChain(List<TrainableLayer> layers) {
    if (layers.isEmpty()) {
      throw new ShapeException("a model needs at least one layer");
    }
    for (int l = 1; l < layers.size(); l++) {
      if (layers.get(l).inFeatures() != layers.get(l - 1).outFeatures()) {
        throw new ShapeException("layer " + l + " (" + layers.get(l) + ") takes " + layers.get(l).inFeatures()
            + " features, layer " + (l - 1) + " (" + layers.get(l - 1) + ") gives " + layers.get(l - 1).outFeatures());
      }
    }
  }

  /** The layers, input first. */
  public List<TrainableLayer> layers() {
    return layers;
  }

  /**
   * Where layer {@code l}'s parameters start in {@link #parameters()}.
   *
   * @param l the layer index
   * @return the offset
   */
  public int offset(int l) {
    return offsets[l];
  }

  /** The input width. */
  public int inFeatures() {
    return layers.getFirst().inFeatures();
  }

  /** The output width (the number of classes of a classifier). */
  public int outFeatures() {
    return layers.getLast().outFeatures();
  }

  /** The length of the parameter and gradient vectors. */
  public int parameterCount() {
    return params.length;
  }

  /** The live parameter vector; optimizers update it in place. */
  public float[] parameters() {
    return params;
  }

  /** The live gradient vector that {@link #backward} accumulates into. */
  public float[] gradients() {
    if (grads == null) {
      grads = new float[params.length];
    }
    return grads;
  }

  /** Sets every gradient to 0. */
  public void zeroGradients() {
    Arrays.fill(gradients(), 0f);
  }

  /**
   * Copies parameters in.
   *
   * @param source {@link #parameterCount()} values
   * @throws ShapeException if the length differs
   */
  public void load(float[] source) {
    if (source.length != params.length) {
      throw new ShapeException("parameter vector has " + source.length + " values, this model has " + params.length);
    }
    System.arraycopy(source, 0, params, 0, params.length);
  }

  /** A replica with fresh layer instances and a copy of the parameters, for another worker. */
  public Sequential copy() {
    List<TrainableLayer> fresh = new ArrayList<>(layers.size());
    for (TrainableLayer l : layers) {
      fresh.add(l.fresh());
    }
    return new Sequential(fresh, params.clone());
  }

  /**
   * The training forward pass over {@code rows} rows, keeping what {@link #backward} needs.
   *
   * @param x at least {@code rows × inFeatures()} inputs, row-major
   * @param rows the number of rows, at least 1
   * @return {@code rows × outFeatures()} outputs
   * @throws ShapeException if {@code x} is too short or rows is not positive
   */
  public float[] forward(float[] x, int rows) {
    Objects.requireNonNull(x, "x");
    if (rows < 1 || x.length < (long) rows * inFeatures()) {
      throw new ShapeException("forward of " + rows + " rows of " + inFeatures() + " features, given " + x.length + " values");
    }
    float[] h = x;
    for (int l = 0; l < layers.size(); l++) {
      h = layers.get(l).forward(params, offsets[l], h, rows);
    }
    lastRows = rows;
    return h;
  }

  /**
   * Back-propagates the gradient of the loss with respect to the last forward pass's outputs,
   * adding every parameter's gradient into {@link #gradients()}.
   *
   * @param dy {@code rows × outFeatures()} values
   * @param rows the rows of the last forward pass
   * @throws ShapeException if {@code rows} differs from the last forward pass or {@code dy} is too short
   */
  public void backward(float[] dy, int rows) {
    if (rows != lastRows || dy.length < (long) rows * outFeatures()) {
      throw new ShapeException("backward of " + rows + " rows (" + dy.length + " values) after a forward pass of " + lastRows);
    }
    float[] g = gradients();
    float[] d = dy;
    for (int l = layers.size() - 1; l >= 0; l--) {
      d = layers.get(l).backward(params, g, offsets[l], d, rows, l > 0);
    }
  }

  /**
   * The model in inference form: the layers of the inference package with the current weights
   * (packed ternary weights for {@link TernaryLinear}); it predicts what this model predicts.
   *
   * @return the inference network
   */
  public InferenceNetwork export() {
    List<InferenceNetwork.Stage> stages = new ArrayList<>(layers.size());
    for (int l = 0; l < layers.size(); l++) {
      stages.add(layers.get(l).export(params, offsets[l]));
    }
    return new InferenceNetwork(stages);
  }

  /**
   * Loss and accuracy on a data set (forward passes in batches of 512; gradients untouched).
   *
   * @param data the examples
   * @return the summed loss, correct count and count
   * @throws ShapeException if the data's width or classes do not fit the model
   */
  public SoftmaxCrossEntropy.Loss evaluate(Examples data) {
    checkData(data);
    double loss = 0;
    int correct = 0;
    int width = data.width();
    for (int s = 0; s < data.count(); s += 512) {
      int rows = Math.min(512, data.count() - s);
      float[] x = Arrays.copyOfRange(data.features(), s * width, (s + rows) * width);
      SoftmaxCrossEntropy.Loss l = SoftmaxCrossEntropy.compute(forward(x, rows), rows, outFeatures(), data.labels(), s, null, 0f);
      loss += l.lossSum();
      correct += l.correct();
    }
    return new SoftmaxCrossEntropy.Loss(loss, correct, data.count());
  }

  void checkData(Examples data) {
    if (data.width() != inFeatures()) {
      throw new ShapeException("examples have " + data.width() + " features, the model takes " + inFeatures());
    }
    if (data.classes() != outFeatures()) {
      throw new ShapeException("examples have " + data.classes() + " classes, the model has " + outFeatures() + " outputs");
    }
  }

  @Override
  public String toString() {
    return "Sequential" + layers + " (" + params.length + " parameters)";
  }

  /** Builds a {@link Sequential} layer by layer; each step's width follows from the previous one. */
  public static final class Builder {
    private final List<TrainableLayer> layers = new ArrayList<>();
    private int width;

    private Builder(int inputs) {
      if (inputs < 1) {
        throw new ShapeException("the input width must be at least 1, got " + inputs);
      }
      this.width = inputs;
    }

    private Builder add(TrainableLayer layer) {
      layers.add(layer);
      width = layer.outFeatures();
      return this;
    }

    /**
     * Adds a trainable ternary linear layer with bias.
     *
     * @param out the output width
     * @return this builder
     */
    public Builder ternary(int out) {
      return add(new TernaryLinear(width, out, true));
    }

    /**
     * Adds a float32 linear layer with bias.
     *
     * @param out the output width
     * @return this builder
     */
    public Builder dense(int out) {
      return add(new DenseLinear(width, out, true));
    }

    /**
     * Adds an RMS normalization with a learned gain (eps 1e-5).
     *
     * @return this builder
     */
    public Builder rmsNorm() {
      return add(new RmsNormLayer(width, 1e-5f));
    }

    /**
     * Adds ReLU.
     *
     * @return this builder
     */
    public Builder relu() {
      return add(new ActivationLayer(width, Activation.RELU));
    }

    /**
     * Adds an activation.
     *
     * @param activation the function
     * @return this builder
     */
    public Builder activation(Activation activation) {
      return add(new ActivationLayer(width, activation));
    }

    /**
     * Adds any layer.
     *
     * @param layer a layer whose input width is the current width
     * @return this builder
     */
    public Builder layer(TrainableLayer layer) {
      if (layer.inFeatures() != width) {
        throw new ShapeException(layer + " takes " + layer.inFeatures() + " features, the model has " + width + " here");
      }
      return add(layer);
    }

    /**
     * Creates the model with seeded initial parameters.
     *
     * @param seed the initialization seed
     * @return the model
     */
    public Sequential build(long seed) {
      return Sequential.of(layers, seed);
    }
  }
}
