package dev.aphelion.benchmarks;

import dev.aphelion.core.config.ModelConfig;
import dev.aphelion.core.config.ModelConfigs;
import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.graph.GraphNode;
import dev.aphelion.core.hash.GraphDigest;
import dev.aphelion.core.hash.RustStableHash;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Hashing a large model graph: the canonical {@link GraphDigest} against the Rust-compatible
 * {@link RustStableHash}, plus building the graph itself (validation and topological sort) for
 * scale.
 *
 * <p>The graph: {@code nodes} nodes in a chain of blocks, each node with a preset config (4
 * params, one of them a double) and two attributes; every 10th node also gets a skip edge, so
 * E is about 1.1 V.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar GraphHashBenchmark -f 1 -wi 3 -i 5}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class GraphHashBenchmark {
  /** Number of nodes in the graph. */
  @Param({"100000"})
  public int nodes;

  private BuildGraph graph;
  private BuildGraph.Builder builder;

  /** Builds the graph once per trial. */
  @Setup
  public void setUp() {
    builder = builder(nodes);
    graph = builder.build();
  }

  static BuildGraph.Builder builder(int n) {
    ModelConfig[] presets = {ModelConfigs.small(), ModelConfigs.medium(), ModelConfigs.large()};
    String[] ops = {"ternary_linear", "relu", "attention", "linear"};
    BuildGraph.Builder b = BuildGraph.builder().attribute("batch_size", 32);
    for (int i = 0; i < n; i++) {
      b.addNode(
          GraphNode.builder("block" + (i / 4) + "/op" + (i % 4), ops[i % 4])
              .config(presets[i % 3])
              .attribute("index", i)
              .attribute("group_size", 64)
              .build());
    }
    for (int i = 1; i < n; i++) {
      b.addEdge("block" + ((i - 1) / 4) + "/op" + ((i - 1) % 4), "block" + (i / 4) + "/op" + (i % 4));
      if (i % 10 == 0) {
        b.addEdge("block" + ((i - 10) / 4) + "/op" + ((i - 10) % 4), "block" + (i / 4) + "/op" + (i % 4));
      }
    }
    return b;
  }

  /** The canonical digest (streams the encoding into SHA-256). */
  @Benchmark
  public GraphDigest canonicalDigest() {
    return GraphDigest.of(graph);
  }

  /** The Rust-compatible hash (compact serde_json of every config, streamed). */
  @Benchmark
  public String rustStableHash() {
    return RustStableHash.of(graph);
  }

  /** Validating and freezing the graph: id sort, adjacency arrays, cycle check, topo order. */
  @Benchmark
  public BuildGraph build() {
    return builder.build();
  }
}
