package dev.aphelion.examples.fashion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.graph.GraphNode;
import dev.aphelion.core.hash.GraphDigest;
import dev.aphelion.examples.fashion.nn.MlpLayout;
import dev.aphelion.examples.fashion.nn.Precision;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelGraphTest {
  private static final int[] SIZES = {784, 256, 128, 10};

  @Test
  void describesEveryLayerInOrder() {
    BuildGraph g = ModelGraph.describe(new MlpLayout(SIZES, Precision.TERNARY), "fashion-mnist");
    List<String> order = g.topologicalOrder().stream().map(GraphNode::id).toList();
    assertEquals(List.of("input", "norm1", "fc1", "relu1", "norm2", "fc2", "relu2", "norm3", "fc3",
        "loss"), order);
    assertEquals(256L, g.node("fc1").config().getLong("out_features"));
    assertEquals("absmean-ternary-per-row", g.node("fc2").config().getString("weight_quantization"));
  }

  @Test
  void digestTellsPrecisionsAndShapesApart() {
    GraphDigest t = GraphDigest.of(ModelGraph.describe(new MlpLayout(SIZES, Precision.TERNARY), "d"));
    GraphDigest f = GraphDigest.of(ModelGraph.describe(new MlpLayout(SIZES, Precision.FLOAT32), "d"));
    GraphDigest w = GraphDigest.of(ModelGraph.describe(
        new MlpLayout(new int[] {784, 512, 128, 10}, Precision.TERNARY), "d"));
    assertNotEquals(t, f);
    assertNotEquals(t, w);
    assertEquals(t, GraphDigest.of(ModelGraph.describe(new MlpLayout(SIZES, Precision.TERNARY), "d")));
  }
}
