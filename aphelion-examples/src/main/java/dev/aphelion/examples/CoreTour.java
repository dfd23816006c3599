package dev.aphelion.examples;

import dev.aphelion.core.backend.Backend;
import dev.aphelion.core.backend.BackendRegistry;
import dev.aphelion.core.config.ModelConfig;
import dev.aphelion.core.config.ModelConfigs;
import dev.aphelion.core.error.BuildException;
import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.graph.GraphNode;
import dev.aphelion.core.hash.GraphDigest;
import dev.aphelion.core.hash.RustStableHash;
import dev.aphelion.core.pipeline.BuildContext;
import dev.aphelion.core.pipeline.BuildPipeline;
import dev.aphelion.core.pipeline.PipelineResult;
import dev.aphelion.core.pipeline.StageTiming;
import dev.aphelion.core.trace.InMemoryTraceSink;
import dev.aphelion.core.trace.TraceJsonLines;
import dev.aphelion.core.trace.Tracer;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A tour of aphelion-core: builds a small transformer-like {@link BuildGraph}, lists the backends
 * found on the class path, runs the standard {@link BuildPipeline} on the best available one, and
 * prints the stage timings, the graph digest, the Rust-compatible hash, the trace and the DOT text.
 * It also shows that the digest does not depend on the order nodes were added (the Rust hash does)
 * and what a validation failure looks like.
 */
public final class CoreTour {
  private final PrintStream out;
  private final Path outputDir;

  /**
   * Creates a tour.
   *
   * @param out where the tour prints
   * @param outputDir where it writes the trace as JSON Lines, or {@code null} to write nothing
   */
  public CoreTour(PrintStream out, Path outputDir) {
    this.out = out;
    this.outputDir = outputDir;
  }

  /**
   * Runs the tour, printing to standard output and writing {@code demo-output/core-trace.jsonl}.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    new CoreTour(System.out, Path.of("demo-output")).run();
  }

  /**
   * A two-block transformer-like graph: embedding, per block layer norm, attention, residual add,
   * layer norm, ternary feed-forward (up, activation, down), residual add; then a head.
   *
   * @param blocks the number of transformer blocks, at least 1
   * @param reversed whether to add the nodes and edges in reverse order (same graph, other order)
   * @return the graph
   */
  public static BuildGraph transformer(int blocks, boolean reversed) {
    ModelConfig model = ModelConfigs.small();
    long hidden = model.getLong(ModelConfigs.HIDDEN_SIZE);
    List<GraphNode> nodes = new ArrayList<>();
    List<String[]> edges = new ArrayList<>();
    nodes.add(node("embed", "embedding", cfg("embedding").param("vocab_size", 32_000L).param("hidden_size", hidden)));
    String prev = "embed";
    for (int b = 0; b < blocks; b++) {
      String p = "block" + b + ".";
      nodes.add(node(p + "norm1", "rms_norm", cfg("rms_norm").param("hidden_size", hidden).param("eps", 1e-6)));
      nodes.add(
          node(p + "attn", "attention", cfg("attention").param("hidden_size", hidden).param("num_heads", 8L)
              .param("causal", true)));
      nodes.add(node(p + "add1", "add", cfg("add")));
      nodes.add(node(p + "norm2", "rms_norm", cfg("rms_norm").param("hidden_size", hidden).param("eps", 1e-6)));
      nodes.add(
          node(p + "up", "ternary_linear", cfg("ternary_linear").param("in_features", hidden)
              .param("out_features", 4 * hidden).param("quantization", "absmean")));
      nodes.add(node(p + "act", "relu", cfg("relu").param("activation", "relu")));
      nodes.add(
          node(p + "down", "ternary_linear", cfg("ternary_linear").param("in_features", 4 * hidden)
              .param("out_features", hidden).param("quantization", "absmean")));
      nodes.add(node(p + "add2", "add", cfg("add")));
      edges.add(new String[] {prev, p + "norm1"});
      edges.add(new String[] {p + "norm1", p + "attn"});
      edges.add(new String[] {p + "attn", p + "add1"});
      edges.add(new String[] {prev, p + "add1"}); // residual
      edges.add(new String[] {p + "add1", p + "norm2"});
      edges.add(new String[] {p + "norm2", p + "up"});
      edges.add(new String[] {p + "up", p + "act"});
      edges.add(new String[] {p + "act", p + "down"});
      edges.add(new String[] {p + "down", p + "add2"});
      edges.add(new String[] {p + "add1", p + "add2"}); // residual
      prev = p + "add2";
    }
    nodes.add(node("head", "linear", cfg("linear").param("in_features", hidden).param("out_features", 32_000L)));
    nodes.add(node("softmax", "softmax", cfg("softmax")));
    edges.add(new String[] {prev, "head"});
    edges.add(new String[] {"head", "softmax"});
    if (reversed) {
      java.util.Collections.reverse(nodes);
      java.util.Collections.reverse(edges);
    }
    BuildGraph.Builder g = BuildGraph.builder().attribute("model", "tour-transformer").attribute("blocks", (long) blocks);
    nodes.forEach(g::addNode);
    edges.forEach(e -> g.addEdge(e[0], e[1]));
    return g.build();
  }

  private static ModelConfig.Builder cfg(String name) {
    return ModelConfig.builder(name, "1.0.0");
  }

  private static GraphNode node(String id, String op, ModelConfig.Builder config) {
    return GraphNode.of(id, op, config.build());
  }

  /** Runs the tour. */
  public void run() {
    heading("1. Backends found on the class path");
    BackendRegistry registry = BackendRegistry.load();
    for (BackendRegistry.ProviderInfo p : registry.listing()) {
      out.printf(
          Locale.ROOT,
          "  %-14s priority %-11s %s%n",
          p.name(),
          p.priority() == Integer.MIN_VALUE ? "min" : Integer.toString(p.priority()),
          p.availability());
    }
    BackendRegistry.Selection selection = registry.defaultSelection();
    out.printf(
        Locale.ROOT,
        "  -> using '%s' (chosen by %s; override with -D%s=NAME or %s=NAME)%n",
        selection.provider().name(),
        selection.source().name().toLowerCase(Locale.ROOT).replace('_', ' '),
        BackendRegistry.PROPERTY,
        BackendRegistry.ENV);

    BuildGraph graph = transformer(2, false);
    heading("2. A small transformer-like graph");
    out.printf(Locale.ROOT, "  %d nodes, %d edges; topological order:%n", graph.nodeCount(), graph.edgeCount());
    StringBuilder order = new StringBuilder("   ");
    for (GraphNode n : graph.topologicalOrder()) {
      order.append(' ').append(n.id());
    }
    out.println(order);

    try (Backend backend = selection.provider().create()) {
      out.println("  device: " + backend.capabilities().summary());
      InMemoryTraceSink traceSink = new InMemoryTraceSink(1_000);
      BuildContext ctx =
          BuildContext.builder(backend).config(ModelConfigs.small()).tracer(Tracer.create(traceSink)).build();

      heading("3. The standard pipeline (validation, hashing)");
      BuildPipeline pipeline = BuildPipeline.standard();
      // The first run pays for class loading and interpretation; the second shows warm timings.
      PipelineResult first = pipeline.execute(ctx, graph);
      PipelineResult result = pipeline.execute(ctx, graph);
      out.printf(Locale.ROOT, "  %-12s %12s %12s%n", "stage", "first run", "second run");
      for (int i = 0; i < result.timings().size(); i++) {
        StageTiming t = result.timings().get(i);
        out.printf(
            Locale.ROOT,
            "  %-12s %9.3f ms %9.3f ms%n",
            t.stage(),
            first.timings().get(i).duration().toNanos() / 1e6,
            t.duration().toNanos() / 1e6);
      }
      out.printf(
          Locale.ROOT,
          "  %-12s %9.3f ms %9.3f ms%n",
          "total",
          first.totalStageTime().toNanos() / 1e6,
          result.totalStageTime().toNanos() / 1e6);
      out.println("  graph digest (GraphDigest v" + GraphDigest.ENCODING_VERSION + "): " + result.digest().hex());
      out.println("  Rust-compatible stable_hash:        " + RustStableHash.of(result.graph()));

      heading("4. Same graph, nodes and edges added in reverse order");
      BuildGraph reversed = transformer(2, true);
      out.println("  equal graphs:     " + reversed.equals(graph));
      out.println("  GraphDigest:      " + GraphDigest.of(reversed).hex()
          + (GraphDigest.of(reversed).equals(result.digest()) ? "  (same)" : "  (DIFFERENT)"));
      String rust = RustStableHash.of(reversed);
      out.println("  Rust stable_hash: " + rust
          + (rust.equals(RustStableHash.of(graph)) ? "  (same)" : "  (differs: the Rust hash follows insertion order)"));

      heading("5. A broken graph is rejected with every problem named");
      BuildGraph broken =
          graph.toBuilder()
              .addNode(GraphNode.of("orphan", "linear", cfg("linear").param("dropout", 1.5).build()))
              .build();
      try {
        BuildPipeline.standard().execute(ctx, broken);
        out.println("  (unexpectedly accepted)");
      } catch (BuildException e) {
        out.println("  " + e.getMessage().replace("\n", "\n  "));
      }

      heading("6. Trace of the successful run");
      out.printf(Locale.ROOT, "  %d events in the result (%d dropped)%n", result.trace().size(), result.traceDropped());
      result.trace().forEach(ev -> out.printf(Locale.ROOT, "  %-5s %-4s %s%n", ev.level(), ev.spanId() == null ? "" : ev.spanId(), ev.message()));
      if (outputDir != null) {
        Path file = outputDir.resolve("core-trace.jsonl");
        try {
          Files.createDirectories(outputDir);
          try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            TraceJsonLines.write(result.trace(), w);
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        out.println("  written as JSON Lines to " + file);
      }

      heading("7. DOT (render with: dot -Tsvg)");
      out.println(result.graph().toDot());
    }
  }

  private void heading(String title) {
    out.println();
    out.println("== " + title);
  }
}
