package dev.aphelion.core.graph;

import dev.aphelion.core.config.ConfigValue;
import java.util.Map;

/**
 * Writes a {@link BuildGraph} as a Graphviz DOT {@code digraph}.
 *
 * <p>Output is deterministic: graph attributes first (as a {@code label} comment block), then
 * nodes sorted by id, each labelled {@code id\n(op)}, then edges sorted by (source, target). Every
 * id, op and label is a double-quoted DOT string, escaped so that any text is safe: {@code \} is
 * written as {@code \\}, {@code "} as {@code \"}, a line feed as {@code \n} (a carriage return,
 * and a CR LF pair, likewise), other control characters (U+0000-U+001F, U+007F) as a space.
 * Non-ASCII text is written as is; the output declares {@code charset="UTF-8"}.
 */
public final class DotExporter {
  private DotExporter() {}

  /**
   * Renders the graph.
   *
   * @param graph the graph
   * @return the DOT text, ending with a newline
   */
  public static String toDot(BuildGraph graph) {
    StringBuilder sb = new StringBuilder(64 + 48 * graph.nodeCount() + 24 * graph.edgeCount());
    sb.append("digraph \"aphelion\" {\n");
    sb.append("  graph [charset=\"UTF-8\"");
    if (!graph.attributes().isEmpty()) {
      StringBuilder label = new StringBuilder();
      for (Map.Entry<String, ConfigValue> e : graph.attributes().entrySet()) {
        label.append(e.getKey()).append(" = ").append(e.getValue()).append('\n');
      }
      sb.append(", labelloc=\"t\", label=").append(quote(label.toString()));
    }
    sb.append("];\n");
    sb.append("  node [shape=box];\n");
    for (GraphNode node : graph.nodesInIdOrder()) {
      sb.append("  ").append(quote(node.id()));
      sb.append(" [label=").append(quote(node.id() + "\n(" + node.opType() + ")")).append("];\n");
    }
    for (Edge e : graph.edgesInIdOrder()) {
      sb.append("  ").append(quote(e.from())).append(" -> ").append(quote(e.to())).append(";\n");
    }
    sb.append("}\n");
    return sb.toString();
  }

  /**
   * Quotes and escapes text as a DOT string literal.
   *
   * @param text any text
   * @return the quoted literal, for example {@code "a \"b\""}
   */
  public static String quote(String text) {
    StringBuilder sb = new StringBuilder(text.length() + 2).append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '\\' -> sb.append("\\\\");
        case '"' -> sb.append("\\\"");
        case '\n' -> sb.append("\\n");
        case '\r' -> {
          sb.append("\\n");
          if (i + 1 < text.length() && text.charAt(i + 1) == '\n') {
            i++;
          }
        }
        default -> sb.append(c < 0x20 || c == 0x7F ? ' ' : c);
      }
    }
    return sb.append('"').toString();
  }
}
