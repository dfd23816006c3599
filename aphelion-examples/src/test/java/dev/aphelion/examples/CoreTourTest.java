package dev.aphelion.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.hash.GraphDigest;
import dev.aphelion.core.hash.RustStableHash;
import dev.aphelion.core.trace.TraceJsonLines;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CoreTourTest {

  @Test
  void reversedInsertionGivesTheSameGraphAndDigest() {
    BuildGraph a = CoreTour.transformer(2, false);
    BuildGraph b = CoreTour.transformer(2, true);
    assertEquals(19, a.nodeCount());
    assertEquals(a, b);
    assertEquals(GraphDigest.of(a), GraphDigest.of(b));
    assertNotEquals(RustStableHash.of(a), RustStableHash.of(b));
  }

  @Test
  void tourPrintsEverySectionAndWritesTheTrace(@TempDir Path dir) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    new CoreTour(new PrintStream(bytes, true, StandardCharsets.UTF_8), dir).run();
    String out = bytes.toString(StandardCharsets.UTF_8);
    String digest = GraphDigest.of(CoreTour.transformer(2, false)).hex();
    assertTrue(out.contains("graph digest (GraphDigest v1): " + digest), out);
    assertTrue(out.contains("null "), out);
    assertTrue(out.contains("validation "), out);
    assertTrue(out.contains("stage 'validation'"), out);
    assertTrue(out.contains("node 'orphan' (linear) is not connected"), out);
    assertTrue(out.contains("digraph"), out);
    assertTrue(out.contains("(same)"), out);
    Path trace = dir.resolve("core-trace.jsonl");
    assertTrue(TraceJsonLines.fromJsonLines(Files.readString(trace)).size() > 4);
  }
}
