package dev.aphelion.core.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.aphelion.core.config.ConfigValue;
import dev.aphelion.core.config.ModelConfig;
import dev.aphelion.core.config.ModelConfigs;
import dev.aphelion.core.error.GraphException;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class GraphNodeTest {
  @Test
  void builderAndDefaults() {
    GraphNode n =
        GraphNode.builder("q_proj", "ternary_linear")
            .attribute("in", 512)
            .attribute("scale", 0.5)
            .attribute("bias", false)
            .attribute("layout", "row")
            .attribute("shape", ConfigValue.from(List.of(512, 512)))
            .build();
    assertEquals("q_proj", n.id());
    assertEquals("ternary_linear", n.opType());
    assertEquals(ModelConfig.of("ternary_linear", "0.0.0"), n.config());
    assertSame(GraphNode.defaultConfig("relu"), GraphNode.defaultConfig("relu"));
    assertEquals(List.of("bias", "in", "layout", "scale", "shape"), List.copyOf(n.attributes().keySet()));
    assertEquals(Optional.of(ConfigValue.of(512)), n.attribute("in"));
    assertEquals(Optional.empty(), n.attribute("out"));
  }

  @Test
  void derivedCopies() {
    GraphNode n = GraphNode.of("a", "linear", ModelConfigs.small());
    GraphNode m = n.withAttribute("k", ConfigValue.of(1));
    assertEquals(Optional.empty(), n.attribute("k"));
    assertEquals(Optional.of(ConfigValue.of(1)), m.attribute("k"));
    assertNotEquals(n, m);
    assertEquals(n, m.toBuilder().removeAttribute("k").build());
    assertEquals(ModelConfigs.large(), n.withConfig(ModelConfigs.large()).config());
    assertEquals("relu", n.toBuilder().opType("relu").build().opType());
  }

  @Test
  void invalidInput() {
    GraphException e = assertThrows(GraphException.class, () -> new GraphNode("a", "op", null, new java.util.TreeMap<>()));
    assertEquals("[APH-GRAPH] node 'a' has no config", e.getMessage());
    assertThrows(GraphException.class, () -> GraphNode.builder("a", null).build());
    assertThrows(GraphException.class, () -> GraphNode.builder("a", "op").attribute(null, ConfigValue.NULL));
    assertThrows(GraphException.class, () -> GraphNode.defaultConfig(""));
  }
}
