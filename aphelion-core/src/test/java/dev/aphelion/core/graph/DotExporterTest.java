package dev.aphelion.core.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class DotExporterTest {
  @Test
  void escapesQuotesBackslashesAndNewlines() {
    assertEquals("\"a\\\"b\"", DotExporter.quote("a\"b"));
    assertEquals("\"a\\\\b\"", DotExporter.quote("a\\b"));
    assertEquals("\"a\\nb\\nc\"", DotExporter.quote("a\nb\r\nc"));
    assertEquals("\"a b\"", DotExporter.quote("a\u0000b"));
    assertEquals("\"\u00e9\ud83d\ude00\"", DotExporter.quote("\u00e9\ud83d\ude00"));
    // A trailing backslash must not escape the closing quote.
    assertEquals("\"x\\\\\"", DotExporter.quote("x\\"));
  }

  @Test
  void rendersDeterministically() {
    BuildGraph g =
        BuildGraph.builder()
            .addNode("b\"1", "relu")
            .addNode("a", "linear")
            .addEdge("a", "b\"1")
            .attribute("batch_size", 8)
            .build();
    String expected =
        """
        digraph "aphelion" {
          graph [charset="UTF-8", labelloc="t", label="batch_size = 8\\n"];
          node [shape=box];
          "a" [label="a\\n(linear)"];
          "b\\"1" [label="b\\"1\\n(relu)"];
          "a" -> "b\\"1";
        }
        """;
    assertEquals(expected, g.toDot());
  }
}
