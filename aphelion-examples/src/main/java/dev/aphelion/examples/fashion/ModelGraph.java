package dev.aphelion.examples.fashion;

import dev.aphelion.core.config.ModelConfig;
import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.graph.GraphNode;
import dev.aphelion.examples.fashion.nn.MlpLayout;
import dev.aphelion.examples.fashion.nn.Precision;

/**
 * Describes the demo's MLP as an aphelion-core {@link BuildGraph}: an {@code input} node, then
 * per layer {@code rms_norm → linear → relu} (the last layer ends in {@code softmax_cross_entropy}
 * instead of a ReLU). Ternary layers carry their quantization scheme in their config, so the
 * graph's digest tells a ternary model from a float one of the same shape.
 */
public final class ModelGraph {
  /** The config version every node uses. */
  public static final String VERSION = "1.0.0";

  private ModelGraph() {}

  /**
   * Builds the graph of a layout.
   *
   * @param layout the model's shape and precision
   * @param dataset a name for the training data, recorded as a graph attribute
   * @return the graph
   */
  public static BuildGraph describe(MlpLayout layout, String dataset) {
    int[] sizes = layout.sizes();
    boolean ternary = layout.precision() == Precision.TERNARY;
    BuildGraph.Builder g = BuildGraph.builder()
        .attribute("model", "bitnet-mlp")
        .attribute("dataset", dataset)
        .attribute("precision", layout.precision().name().toLowerCase(java.util.Locale.ROOT));
    g.addNode(GraphNode.of("input", "input",
        ModelConfig.builder("input", VERSION).param("features", (long) sizes[0]).build()));
    String prev = "input";
    for (int l = 0; l < layout.layers(); l++) {
      String n = Integer.toString(l + 1);
      ModelConfig.Builder linear = ModelConfig.builder("linear", VERSION)
          .param("in_features", (long) sizes[l])
          .param("out_features", (long) sizes[l + 1])
          .param("bias", true);
      if (ternary) {
        linear.param("weight_quantization", "absmean-ternary-per-row")
            .param("activation_quantization", "absmax-int8-per-token")
            .param("gradient_estimator", "straight-through");
      }
      g.addNode(GraphNode.of("norm" + n, "rms_norm",
          ModelConfig.builder("rms_norm", VERSION)
              .param("features", (long) sizes[l])
              .param("eps", 1e-5)
              .param("learned_gain", l > 0)
              .build()));
      g.addNode(GraphNode.of("fc" + n, "linear", linear.build()));
      g.addEdge(prev, "norm" + n);
      g.addEdge("norm" + n, "fc" + n);
      prev = "fc" + n;
      if (l < layout.layers() - 1) {
        g.addNode(GraphNode.of("relu" + n, "relu", ModelConfig.of("relu", VERSION)));
        g.addEdge(prev, "relu" + n);
        prev = "relu" + n;
      }
    }
    g.addNode(GraphNode.of("loss", "softmax_cross_entropy",
        ModelConfig.builder("softmax_cross_entropy", VERSION)
            .param("classes", (long) layout.outputs())
            .build()));
    g.addEdge(prev, "loss");
    return g.build();
  }
}
