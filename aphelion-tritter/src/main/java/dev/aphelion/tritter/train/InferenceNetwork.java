package dev.aphelion.tritter.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.io.SafeTensorsFile;
import dev.aphelion.tritter.io.SafeTensorsWriter;
import dev.aphelion.tritter.io.TensorInfo;
import dev.aphelion.tritter.io.TernaryTensors;
import dev.aphelion.tritter.nn.DenseLayer;
import dev.aphelion.tritter.nn.LinearLayer;
import dev.aphelion.tritter.nn.RmsNorm;
import dev.aphelion.tritter.nn.TernaryLayer;
import java.nio.file.Path;
import java.util.Arrays;
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
   * @param eps its epsilon (kept for {@link #save})
   */
  public record Norm(RmsNorm norm, float eps) implements Stage {
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

  /** Metadata key holding the number of stages. */
  public static final String STAGES_KEY = "aphelion.network.stages";

  /**
   * Writes the network as a safetensors file (atomically). Stage {@code i} is stored under the
   * prefix {@code layers.i}: a ternary layer as {@link TernaryTensors} ({@code .weight_packed},
   * {@code .weight_scale}) plus an F32 {@code .bias}; a dense layer as F32 {@code .weight}
   * {@code [out, in]} and {@code .bias}; a norm as F32 {@code .weight}; an activation as metadata
   * only. The metadata entry {@code layers.i} describes the stage as JSON, for example
   * {@code {"kind":"ternary","activations":"INT8"}}; {@value #STAGES_KEY} holds the stage count.
   *
   * @param path the destination
   * @throws dev.aphelion.core.error.AphelionException if writing fails
   */
  public void save(Path path) {
    SafeTensorsWriter w = new SafeTensorsWriter();
    w.metadata(STAGES_KEY, Integer.toString(stages.size()));
    for (int i = 0; i < stages.size(); i++) {
      String prefix = "layers." + i;
      switch (stages.get(i)) {
        case Linear(TernaryLayer t) -> {
          TernaryTensors.add(w, prefix, t.packed());
          t.bias().ifPresent(b -> w.addF32(prefix + ".bias", new long[] {b.length}, b));
          w.metadata(prefix, "{\"kind\":\"ternary\",\"activations\":\"" + t.activations() + "\"}");
        }
        case Linear(DenseLayer d) -> {
          w.addF32(prefix + ".weight", new long[] {d.outFeatures(), d.inFeatures()}, d.weights());
          d.bias().ifPresent(b -> w.addF32(prefix + ".bias", new long[] {b.length}, b));
          w.metadata(prefix, "{\"kind\":\"dense\"}");
        }
        case Norm(RmsNorm n, float eps) -> {
          w.addF32(prefix + ".weight", new long[] {n.size()}, n.weight());
          w.metadata(prefix, "{\"kind\":\"rmsnorm\",\"eps\":" + eps + "}");
        }
        case Act(Activation a, int width) ->
            w.metadata(prefix, "{\"kind\":\"activation\",\"function\":\"" + a + "\",\"width\":" + width + "}");
      }
    }
    w.write(path);
  }

  /**
   * Reads a network written by {@link #save}.
   *
   * @param path the file
   * @return the network
   * @throws SerializationException if the file is not such a network (naming what is wrong)
   * @throws ShapeException if the stages' widths do not chain
   */
  public static InferenceNetwork load(Path path) {
    try (SafeTensorsFile f = SafeTensorsFile.open(path)) {
      String count = f.metadata().get(STAGES_KEY);
      int n;
      try {
        n = Integer.parseInt(String.valueOf(count));
      } catch (NumberFormatException e) {
        throw new SerializationException(path + ": no '" + STAGES_KEY + "' metadata entry with the stage count (got " + count
            + "); not a file written by InferenceNetwork.save", e);
      }
      List<Stage> stages = new java.util.ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        String prefix = "layers." + i;
        JsonNode m;
        try {
          m = JSON.readTree(String.valueOf(f.metadata().get(prefix)));
        } catch (java.io.IOException e) {
          throw new SerializationException(path + ": metadata of stage " + i + " is not JSON: " + f.metadata().get(prefix), e);
        }
        String kind = m == null ? "" : m.path("kind").asText();
        float[] bias = f.contains(prefix + ".bias") ? f.floats(prefix + ".bias") : null;
        stages.add(switch (kind) {
          case "ternary" -> new Linear(TernaryLayer.of(TernaryTensors.read(f, prefix), bias,
              parse(TernaryLayer.Activations.class, m.path("activations").asText(), path, i)));
          case "dense" -> {
            TensorInfo t = f.info(prefix + ".weight");
            if (t.shape().length != 2) {
              throw new SerializationException(path + ": '" + prefix + ".weight' must be [out, in], is " + Arrays.toString(t.shape()));
            }
            yield new Linear(DenseLayer.of(f.floats(prefix + ".weight"), (int) t.shape()[0], (int) t.shape()[1], bias));
          }
          case "rmsnorm" -> {
            float eps = (float) m.path("eps").asDouble(Double.NaN);
            if (!(eps > 0)) {
              throw new SerializationException(path + ": stage " + i + " (rmsnorm) has no positive eps: " + m);
            }
            yield new Norm(new RmsNorm(f.floats(prefix + ".weight"), eps), eps);
          }
          case "activation" -> new Act(parse(Activation.class, m.path("function").asText(), path, i), m.path("width").asInt());
          default -> throw new SerializationException(path + ": stage " + i + " has an unknown kind: " + m);
        });
      }
      return new InferenceNetwork(stages);
    }
  }

  private static <E extends Enum<E>> E parse(Class<E> type, String name, Path path, int stage) {
    try {
      return Enum.valueOf(type, name);
    } catch (IllegalArgumentException e) {
      throw new SerializationException(path + ": stage " + stage + " names an unknown " + type.getSimpleName() + " '" + name
          + "', known: " + Arrays.toString(type.getEnumConstants()), e);
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public String toString() {
    return "InferenceNetwork" + stages;
  }
}
