package dev.aphelion.core.pipeline;

import dev.aphelion.core.graph.BuildGraph;
import java.util.List;

/**
 * Checks a whole graph and reports every problem it finds as a human-readable message naming the
 * offending node or edge; an empty list means the graph passed. Run by {@link ValidationStage};
 * ready-made ones are in {@link GraphValidators}.
 */
@FunctionalInterface
public interface GraphValidator {

  /**
   * Checks a graph.
   *
   * @param graph the graph
   * @return the problems found, empty when valid
   */
  List<String> validate(BuildGraph graph);
}
