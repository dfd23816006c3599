package dev.aphelion.core.pipeline;

import dev.aphelion.core.config.ConfigValidator;
import dev.aphelion.core.graph.GraphNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Ready-made {@link GraphValidator}s. The graph builder already guarantees unique ids, edges
 * between existing nodes, no duplicate edges and no cycles; these check what a well-formed graph
 * can still get wrong.
 */
public final class GraphValidators {
  private GraphValidators() {}

  /**
   * The graph has at least one node.
   *
   * @return the validator
   */
  public static GraphValidator nonEmpty() {
    return g -> g.nodeCount() == 0 ? List.of("the graph has no nodes") : List.of();
  }

  /**
   * In a graph of two or more nodes, every node has at least one edge: a node connected to nothing
   * is dangling (usually a forgotten {@code addEdge}).
   *
   * @return the validator
   */
  public static GraphValidator noIsolatedNodes() {
    return g -> {
      if (g.nodeCount() < 2) {
        return List.of();
      }
      List<String> problems = new ArrayList<>();
      for (GraphNode n : g.nodesInIdOrder()) {
        if (g.successors(n.id()).isEmpty() && g.predecessors(n.id()).isEmpty()) {
          problems.add("node '" + n.id() + "' (" + n.opType() + ") is not connected to any other node");
        }
      }
      return problems;
    };
  }

  /**
   * Every node's config passes the config validator; each message names the node.
   *
   * @param validator the config validator (for example a {@link
   *     dev.aphelion.core.config.CompositeValidator})
   * @return the validator
   */
  public static GraphValidator nodeConfigs(ConfigValidator validator) {
    Objects.requireNonNull(validator, "validator");
    return g -> {
      List<String> problems = new ArrayList<>();
      for (GraphNode n : g.nodesInIdOrder()) {
        for (String p : validator.validate(n.config())) {
          problems.add("node '" + n.id() + "' config '" + n.config().name() + "': " + p);
        }
      }
      return problems;
    };
  }
}
