package dev.aphelion.core.pipeline;

import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.hash.GraphDigest;
import dev.aphelion.core.hash.RustStableHash;
import dev.aphelion.core.trace.TraceLevel;
import java.util.Map;
import java.util.TreeMap;

/**
 * Computes the graph's {@link GraphDigest}, stores it in the context under {@link #DIGEST} and
 * records it in the trace; optionally also the Rust-compatible {@link RustStableHash} (under
 * {@link #RUST_HASH}). Returns the graph unchanged.
 */
public final class HashingStage implements PipelineStage {
  /** The stage name. */
  public static final String NAME = "hashing";

  /** Context key of the digest of the graph this stage last hashed. */
  public static final ContextKey<GraphDigest> DIGEST =
      ContextKey.of("core.graph.digest", GraphDigest.class);

  /** Context key of the Rust-compatible hash, when enabled. */
  public static final ContextKey<String> RUST_HASH =
      ContextKey.of("core.graph.rust-stable-hash", String.class);

  /** Which graph instance {@link #DIGEST} belongs to, so the pipeline can reuse it. */
  record Hashed(BuildGraph graph, GraphDigest digest) {}

  static final ContextKey<Hashed> HASHED = ContextKey.of("core.graph.hashed", Hashed.class);

  private final boolean rustCompatible;

  /** A stage computing the {@link GraphDigest} only. */
  public HashingStage() {
    this(false);
  }

  /**
   * A stage computing the {@link GraphDigest} and, if asked, the Rust-compatible hash.
   *
   * @param rustCompatible whether to also compute {@link RustStableHash#of(BuildGraph)}
   */
  public HashingStage(boolean rustCompatible) {
    this.rustCompatible = rustCompatible;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public BuildGraph execute(BuildContext ctx, BuildGraph graph) {
    GraphDigest digest = GraphDigest.of(graph);
    ctx.put(DIGEST, digest);
    ctx.put(HASHED, new Hashed(graph, digest));
    Map<String, Object> attrs = new TreeMap<>();
    attrs.put("digest", digest.hex());
    attrs.put("nodes", graph.nodeCount());
    attrs.put("edges", graph.edgeCount());
    if (rustCompatible) {
      String rust = RustStableHash.of(graph);
      ctx.put(RUST_HASH, rust);
      attrs.put("rust_stable_hash", rust);
    }
    ctx.tracer().event(TraceLevel.INFO, "graph digest " + digest.hex(), attrs);
    return graph;
  }

  /**
   * The digest of {@code graph}: the one this stage stored in {@code ctx} if it hashed this very
   * graph instance, else computed now.
   */
  static GraphDigest digestOf(BuildContext ctx, BuildGraph graph) {
    return ctx.get(HASHED)
        .filter(h -> h.graph() == graph)
        .map(Hashed::digest)
        .orElseGet(() -> GraphDigest.of(graph));
  }
}
