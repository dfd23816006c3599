package dev.aphelion.core.hash;

import dev.aphelion.core.config.ConfigValue;
import dev.aphelion.core.config.ModelConfig;
import dev.aphelion.core.config.ModelConfigs;
import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.graph.GraphNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The graphs behind the golden vectors of docs/graph-hash.md (G1 to G10). */
final class GoldenGraphs {
  private GoldenGraphs() {}

  static ModelConfig transformer() {
    return ModelConfig.builder("transformer", "1.0.0")
        .param("d_model", 512)
        .param("n_heads", 8)
        .param("n_layers", 6)
        .param("dropout", 0.1)
        .build();
  }

  static BuildGraph encoderDecoder() {
    return BuildGraph.builder()
        .addNode("encoder", "transformer", transformer())
        .addNode("decoder", "transformer", transformer())
        .addEdge("encoder", "decoder")
        .build();
  }

  static BuildGraph param(ConfigValue p) {
    return BuildGraph.builder()
        .addNode("n", "linear", ModelConfig.builder("m", "1.0.0").param("p", p).build())
        .build();
  }

  /** Name to graph, in document order. */
  static Map<String, BuildGraph> all() {
    Map<String, BuildGraph> g = new LinkedHashMap<>();
    g.put("G1 empty", BuildGraph.builder().build());
    g.put("G2 one relu node", BuildGraph.builder().addNode("x", "relu").build());
    g.put("G3 encoder->decoder", encoderDecoder());
    g.put(
        "G4 G3 + batch_size=32",
        encoderDecoder().toBuilder().attribute("batch_size", 32).build());
    g.put("G5 p=1 (long)", param(ConfigValue.of(1)));
    g.put("G6 p=1.0 (double)", param(ConfigValue.of(1.0)));
    g.put(
        "G7 diamond of presets",
        BuildGraph.builder()
            .addNode("a", "linear", ModelConfigs.small())
            .addNode("b", "ternary_linear", ModelConfigs.medium())
            .addNode("c", "attention", ModelConfigs.large())
            .addNode("d", "relu")
            .addEdge("a", "b")
            .addEdge("a", "c")
            .addEdge("b", "d")
            .addEdge("c", "d")
            .build());
    g.put(
        "G8 nested values and attributes",
        BuildGraph.builder()
            .addNode(
                GraphNode.builder("n", "ternary_linear")
                    .config(
                        ModelConfig.builder("m", "2.1.0-rc.1+build.5")
                            .param(
                                "z",
                                ConfigValue.ofMap(
                                    Map.of(
                                        "b", ConfigValue.of(1),
                                        "a",
                                            ConfigValue.ofList(
                                                ConfigValue.of(3),
                                                ConfigValue.of("x"),
                                                ConfigValue.of(true),
                                                ConfigValue.NULL))))
                            .param("neg_zero", -0.0)
                            .param("tiny", 5e-324)
                            .param("min", Long.MIN_VALUE)
                            .build())
                    .attribute("group_size", 64)
                    .attribute("meta.source", "model.py:12")
                    .build())
            .build());
    g.put(
        "G9 unicode and escapes",
        BuildGraph.builder()
            .addNode("\u00e9t\u00e9 \"q\"\\", "relu")
            .addNode("\ud83d\ude00\n", "linear", ModelConfig.builder("\u65e5\u672c", "1.0").param("k\u0000", "\u0001").build())
            .addEdge("\u00e9t\u00e9 \"q\"\\", "\ud83d\ude00\n")
            .build());
    g.put(
        "G10 list of lists",
        param(ConfigValue.ofList(ConfigValue.ofList(), ConfigValue.ofList(ConfigValue.from(List.of(1L, 2L))))));
    return g;
  }
}
