package dev.aphelion.core.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.config.ConfigValue;
import dev.aphelion.core.config.ModelConfigs;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.error.GraphException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BuildGraphTest {
  static List<String> ids(List<GraphNode> nodes) {
    return nodes.stream().map(GraphNode::id).toList();
  }

  static BuildGraph diamond() {
    return BuildGraph.builder()
        .addNode("d", "relu")
        .addNode("c", "attention", ModelConfigs.large())
        .addNode("b", "ternary_linear", ModelConfigs.medium())
        .addNode("a", "linear", ModelConfigs.small())
        .addEdge("c", "d")
        .addEdge("a", "c")
        .addEdge("b", "d")
        .addEdge("a", "b")
        .build();
  }

  @Test
  void accessors() {
    BuildGraph g = diamond();
    assertEquals(4, g.nodeCount());
    assertEquals(4, g.edgeCount());
    assertEquals(List.of("d", "c", "b", "a"), ids(g.nodes()));
    assertEquals(List.of("a", "b", "c", "d"), ids(g.nodesInIdOrder()));
    assertEquals(new Edge("c", "d"), g.edges().get(0));
    assertEquals(
        List.of(new Edge("a", "b"), new Edge("a", "c"), new Edge("b", "d"), new Edge("c", "d")),
        g.edgesInIdOrder());
    assertEquals(List.of("b", "c"), g.successors("a"));
    assertEquals(List.of("b", "c"), g.predecessors("d"));
    assertEquals(List.of(), g.predecessors("a"));
    assertEquals("attention", g.node("c").opType());
    assertEquals(256, g.node("a").config().getLong("hidden_size"));
    assertTrue(g.contains("a"));
    assertFalse(g.contains("z"));
    assertEquals(Optional.empty(), g.findNode("z"));
    GraphException e = assertThrows(GraphException.class, () -> g.node("z"));
    assertTrue(e.getMessage().contains("unknown node 'z'"), e.getMessage());
    assertEquals(ErrorCode.GRAPH, e.code());
    assertThrows(GraphException.class, () -> g.successors("z"));
  }

  @Test
  void topologicalOrderBreaksTiesById() {
    BuildGraph g = diamond();
    assertEquals(List.of("a", "b", "c", "d"), ids(g.topologicalOrder()));
    BuildGraph h =
        BuildGraph.builder()
            .addNode("z", "op")
            .addNode("y", "op")
            .addNode("x", "op")
            .addNode("w", "op")
            .addEdge("z", "w")
            .addEdge("y", "w")
            .build();
    assertEquals(List.of("x", "y", "z", "w"), ids(h.topologicalOrder()));
  }

  @Test
  void topologicalOrderIsIndependentOfInsertionOrderAndValid() {
    Random random = new Random(7);
    List<String> nodeIds = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      nodeIds.add("v" + i);
    }
    List<Edge> edges = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      for (int k = 0; k < 3; k++) {
        int j = i + 1 + random.nextInt(20);
        if (j < 200 && !edges.contains(new Edge("v" + i, "v" + j))) {
          edges.add(new Edge("v" + i, "v" + j));
        }
      }
    }
    List<String> reference = null;
    for (int trial = 0; trial < 4; trial++) {
      Collections.shuffle(nodeIds, random);
      Collections.shuffle(edges, random);
      BuildGraph.Builder b = BuildGraph.builder();
      nodeIds.forEach(id -> b.addNode(id, "op"));
      edges.forEach(e -> b.addEdge(e.from(), e.to()));
      BuildGraph g = b.build();
      List<String> order = ids(g.topologicalOrder());
      Map<String, Integer> pos = new HashMap<>();
      for (int i = 0; i < order.size(); i++) {
        pos.put(order.get(i), i);
      }
      for (Edge e : g.edges()) {
        assertTrue(pos.get(e.from()) < pos.get(e.to()), e.toString());
      }
      if (reference == null) {
        reference = order;
      } else {
        assertEquals(reference, order);
      }
    }
  }

  @Test
  void unknownNodeInEdge() {
    BuildGraph.Builder b = BuildGraph.builder().addNode("a", "op");
    GraphException e = assertThrows(GraphException.class, () -> b.addEdge("a", "ghost"));
    assertTrue(e.getMessage().contains("unknown node 'ghost'"), e.getMessage());
    e = assertThrows(GraphException.class, () -> b.addEdge("phantom", "a"));
    assertTrue(e.getMessage().contains("unknown node 'phantom'"), e.getMessage());
  }

  @Test
  void duplicateIdAndEdge() {
    BuildGraph.Builder b = BuildGraph.builder().addNode("a", "op").addNode("b", "op");
    GraphException e = assertThrows(GraphException.class, () -> b.addNode("a", "relu"));
    assertTrue(e.getMessage().contains("duplicate node id 'a'"), e.getMessage());
    b.addEdge("a", "b");
    e = assertThrows(GraphException.class, () -> b.addEdge("a", "b"));
    assertTrue(e.getMessage().contains("duplicate edge 'a' -> 'b'"), e.getMessage());
  }

  @Test
  void selfLoopIsACycle() {
    BuildGraph.Builder b = BuildGraph.builder().addNode("a", "op");
    GraphException e = assertThrows(GraphException.class, () -> b.addEdge("a", "a"));
    assertTrue(e.getMessage().contains("cycle"), e.getMessage());
    assertTrue(e.getMessage().contains("'a'"), e.getMessage());
  }

  @Test
  void cycleNamesItsNodes() {
    BuildGraph.Builder b =
        BuildGraph.builder()
            .addNode("in", "op")
            .addNode("p", "op")
            .addNode("q", "op")
            .addNode("r", "op")
            .addNode("out", "op")
            .addEdge("in", "p")
            .addEdge("p", "q")
            .addEdge("q", "r")
            .addEdge("r", "p")
            .addEdge("r", "out");
    GraphException e = assertThrows(GraphException.class, b::build);
    assertTrue(
        e.getMessage().contains("graph has a cycle: 'p' -> 'q' -> 'r' -> 'p'"), e.getMessage());
    assertFalse(e.getMessage().contains("'in'"), e.getMessage());
  }

  @Test
  void twoNodeCycle() {
    BuildGraph.Builder b =
        BuildGraph.builder().addNode("x", "op").addNode("y", "op").addEdge("x", "y").addEdge("y", "x");
    GraphException e = assertThrows(GraphException.class, b::build);
    assertTrue(e.getMessage().contains("'x' -> 'y' -> 'x'"), e.getMessage());
  }

  @Test
  void badNodes() {
    assertThrows(GraphException.class, () -> GraphNode.builder("", "op").build());
    assertThrows(GraphException.class, () -> GraphNode.builder(null, "op").build());
    assertThrows(GraphException.class, () -> GraphNode.builder("a", "").build());
    assertThrows(GraphException.class, () -> GraphNode.builder("\ud800", "op").build());
    assertThrows(GraphException.class, () -> GraphNode.builder("a", "op").attribute("x", Double.NaN));
    assertThrows(
        GraphException.class, () -> BuildGraph.builder().attribute("x", Double.POSITIVE_INFINITY));
  }

  @Test
  void toBuilderDerivesModifiedGraphs() {
    BuildGraph g = diamond();
    BuildGraph h =
        g.toBuilder()
            .attribute("batch_size", 32)
            .replaceNode(g.node("d").withAttribute("fused", ConfigValue.of(true)))
            .build();
    assertEquals(Optional.of(ConfigValue.of(32)), h.attribute("batch_size"));
    assertEquals(Optional.of(ConfigValue.of(true)), h.node("d").attribute("fused"));
    assertEquals(Optional.empty(), g.attribute("batch_size"));
    assertNotEquals(g, h);
    assertEquals(g, g.toBuilder().build());

    BuildGraph removed = g.toBuilder().removeNode("b").build();
    assertEquals(3, removed.nodeCount());
    assertEquals(List.of(new Edge("c", "d"), new Edge("a", "c")), removed.edges());
    assertThrows(GraphException.class, () -> g.toBuilder().removeNode("nope"));
    assertThrows(GraphException.class, () -> g.toBuilder().removeEdge("a", "d"));
    assertEquals(3, g.toBuilder().removeEdge("a", "b").build().edgeCount());
    assertThrows(GraphException.class, () -> g.toBuilder().replaceNode(GraphNode.builder("q", "op").build()));
  }

  @Test
  void equalityIgnoresInsertionOrder() {
    BuildGraph a = BuildGraph.builder().addNode("x", "op").addNode("y", "op").addEdge("x", "y").build();
    BuildGraph b = BuildGraph.builder().addNode("y", "op").addNode("x", "op").addEdge("x", "y").build();
    assertEquals(a, b);
    assertEquals(a.hashCode(), b.hashCode());
  }

  @Test
  void viewsAreImmutable() {
    BuildGraph g = diamond();
    assertThrows(UnsupportedOperationException.class, () -> g.nodes().clear());
    assertThrows(UnsupportedOperationException.class, () -> g.edges().clear());
    assertThrows(UnsupportedOperationException.class, () -> g.successors("a").clear());
    assertThrows(UnsupportedOperationException.class, () -> g.attributes().clear());
    assertThrows(
        UnsupportedOperationException.class,
        () -> g.node("a").attributes().put("x", ConfigValue.of(1)));
    assertThrows(IndexOutOfBoundsException.class, () -> g.topologicalOrder().get(4));
  }

  @Test
  void hundredThousandNodes() {
    int n = 100_000;
    BuildGraph.Builder b = BuildGraph.builder();
    for (int i = 0; i < n; i++) {
      b.addNode("node-" + i, i % 2 == 0 ? "ternary_linear" : "relu");
    }
    for (int i = 1; i < n; i++) {
      b.addEdge("node-" + (i - 1), "node-" + i);
      if (i % 10 == 0) {
        b.addEdge("node-" + (i - 10), "node-" + i);
      }
    }
    BuildGraph g = b.build();
    assertEquals(n, g.nodeCount());
    List<GraphNode> topo = g.topologicalOrder();
    assertEquals("node-0", topo.get(0).id());
    assertEquals("node-" + (n - 1), topo.get(n - 1).id());
    assertEquals(List.of("node-1", "node-10"), g.successors("node-0"));
  }

  @Test
  void hundredThousandNodeCycleIsReported() {
    int n = 100_000;
    BuildGraph.Builder b = BuildGraph.builder();
    for (int i = 0; i < n; i++) {
      b.addNode("n" + i, "op");
    }
    for (int i = 1; i < n; i++) {
      b.addEdge("n" + (i - 1), "n" + i);
    }
    b.addEdge("n" + (n - 1), "n0");
    GraphException e = assertThrows(GraphException.class, b::build);
    assertTrue(e.getMessage().contains("more"), e.getMessage());
  }
}
