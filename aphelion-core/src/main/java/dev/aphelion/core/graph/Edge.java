package dev.aphelion.core.graph;

import dev.aphelion.core.config.Utf8;
import dev.aphelion.core.error.GraphException;
import java.util.Comparator;

/**
 * A directed edge between two node ids: data flows from {@code from} to {@code to}.
 *
 * @param from the source node id
 * @param to the target node id
 */
public record Edge(String from, String to) implements Comparable<Edge> {
  private static final Comparator<Edge> ORDER =
      Comparator.comparing(Edge::from, Utf8.ORDER).thenComparing(Edge::to, Utf8.ORDER);

  /**
   * Creates an edge.
   *
   * @throws GraphException if an end is {@code null}
   */
  public Edge {
    if (from == null || to == null) {
      throw new GraphException("edge ends must not be null: " + from + " -> " + to);
    }
  }

  /** Orders by source id, then target id, both in {@link Utf8#ORDER}. */
  @Override
  public int compareTo(Edge o) {
    return ORDER.compare(this, o);
  }

  /** {@code from -> to}. */
  @Override
  public String toString() {
    return from + " -> " + to;
  }
}
