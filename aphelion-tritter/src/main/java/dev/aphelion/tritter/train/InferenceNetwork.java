package dev.aphelion.tritter.train;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.nn.LinearLayer;
import dev.aphelion.tritter.nn.RmsNorm;
import java.util.List;
import java.util.Objects;

/**
 * A trained {@link Sequential} model in inference form: packed ternary {@link
 * dev.aphelion.tritter.nn.TernaryLayer}s (int8 activations), {@link dev.aphelion.tritter.nn.DenseLayer}s,
 * {@link RmsNorm}s and activations, with no latent weights and no training state. Made by {@link
 * Sequential#export()}; immutable and safe for concurrent use.
 */
public final class InferenceNetwork {

  /** One stage of the network. */
  public sealed interface Stage permits Linear, Norm, Act {
    /** The input width. */
    int inFeatures();

    /** The output width. */
    int outFeatures();

    /**
     * Applies the stage to {@code rows} rows.
     *
     * @param x {@code rows × inFeatures()} inputs
     * @param rows the number of rows
     * @return {@code rows × outFeatures()} outputs
     */
    float[] apply(float[] x, int rows);
  }

  /**
   * A linear layer of the inference package.
   *
   * @param layer the layer
   */
  public record Linear(LinearLayer layer) implements Stage {
    /** Checks the layer. */
    public Linear {
      Objects.requireNonNull(layer, "layer");
    }

    @Override
    public int inFeatures() {
      return layer.inFeatures();
    }

    @Override
    public int outFeatures() {
      return layer.outFeatures();
    }

    @Override
    public float[] apply(float[] x, int rows) {
      float[] y = new float[rows * layer.outFeatures()];
      layer.forward(x, y, rows);
      return y;
    }
  }

  /**
   * An RMS normalization.
   *
   * @param norm the norm
   */
  public record Norm(RmsNorm norm) implements Stage {
    /** Checks the norm. */
    public Norm {
      Objects.requireNonNull(norm, "norm");
    }

    @Override
    public int inFeatures() {
      return norm.size();
    }

    @Override
    public int outFeatures() {
      return norm.size();
    }

    @Override
    public float[] apply(float[] x, int rows) {
      float[] y = new float[rows * norm.size()];
      norm.apply(x, y, rows);
      return y;
    }
  }

  /**
   * An element-wise activation.
   *
   * @param activation the function
   * @param width the number of features
   */
  public record Act(Activation activation, int width) implements Stage {
    /** Checks the arguments. */
    public Act {
      Objects.requireNonNull(activation, "activation");
      if (width < 1) {
        throw new ShapeException("activation width must be at least 1, got " + width);
      }
    }

    @Override
    public int inFeatures() {
      return width;
    }

    @Override
    public int outFeatures() {
      return width;
    }

    @Override
    public float[] apply(float[] x, int rows) {
      float[] y = new float[rows * width];
      for (int i = 0; i < y.length; i++) {
        y[i] = activation.apply(x[i]);
      }
      return y;
    }
  }

  private final List<Stage> stages;

  /**
   * Creates a network from stages whose widths chain.
   *
   * @param stages at least one stage
   * @throws ShapeException if the list is empty or a stage's input width differs from the previous output width
   */
  public InferenceNetwork(List<Stage> stages) {
    if (stages.isEmpty()) {
      throw new ShapeException("an inference network needs at least one stage");
    }
    for (int s = 1; s < stages.size(); s++) {
      if (stages.get(s).inFeatures() != stages.get(s - 1).outFeatures()) {
        throw new ShapeException("stage " + s + " takes " + stages.get(s).inFeatures() + " features, stage "
            + (s - 1) + " gives " + stages.get(s - 1).outFeatures());
      }
    }
    this.stages = List.copyOf(stages);
  }

  /** The stages, input first. */
  public List<Stage> stages() {
    return stages;
  }

  /** The input width. */
  public int inFeatures() {
    return stages.getFirst().inFeatures();
  }

  /** The output width. */
  public int outFeatures() {
    return stages.getLast().outFeatures();
  }

  /**
   * The outputs (logits) of {@code rows} inputs.
   *
   * @param x {@code rows × inFeatures()} inputs, row-major
   * @param rows the number of rows, at least 1
   * @return {@code rows × outFeatures()} outputs
   * @throws ShapeException if {@code x} holds fewer than {@code rows} rows
   */
  public float[] forward(float[] x, int rows) {
    Objects.requireNonNull(x, "x");
    if (rows < 1 || x.length < (long) rows * inFeatures()) {
      throw new ShapeException("forward of " + rows + " rows of " + inFeatures() + " features, given " + x.length + " values");
    }
    float[] h = x.length == rows * inFeatures() ? x : java.util.Arrays.copyOf(x, rows * inFeatures());
    for (Stage s : stages) {
      h = s.apply(h, rows);
    }
    return h;
  }

  /**
   * The arg-max class of each of {@code rows} inputs.
   *
   * @param x {@code rows × inFeatures()} inputs
   * @param rows the number of rows
   * @return one class index per row
   */
  public int[] predict(float[] x, int rows) {
    return SoftmaxCrossEntropy.argmax(forward(x, rows), rows, outFeatures());
  }

  @Override
  public String toString() {
    return "InferenceNetwork" + stages;
  }
}
