package dev.aphelion.core.hash;

import dev.aphelion.core.config.ConfigJson;
import dev.aphelion.core.config.ModelConfig;
import dev.aphelion.core.config.SerdeJsonFloats;
import dev.aphelion.core.config.Utf8;
import dev.aphelion.core.error.GraphException;
import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.graph.Edge;
import dev.aphelion.core.graph.GraphNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Reproduces the Rust aphelion {@code BuildGraph::stable_hash} byte for byte, so graphs can be
 * cross-checked against Rust tooling. <b>Not</b> a good fingerprint: it has no framing (different
 * graphs can collide by construction) and depends on insertion order. Use {@link GraphDigest} for
 * anything else.
 *
 * <p>The hashed byte stream (one SHA-256, lowercase hex result): for each node in insertion order,
 * its id (1-based insertion index) as u64 little-endian, its name as UTF-8, its config as compact
 * JSON exactly as {@code serde_json::to_string} writes it ({@link ConfigJson#writeCompact}); then
 * for each edge in insertion order, the source id and the target id as u64 little-endian. Node
 * op types and attributes, and graph attributes, have no Rust counterpart and are not hashed.
 *
 * <p>Float text: serde_json changed it in 1.0.147 (positive exponents gained a {@code +}: {@code
 * 1e+16}, was {@code 1e16}), so a config holding a double of magnitude 1e16 or more hashes
 * differently under old and new Rust builds. {@link #of(BuildGraph)} and {@link Builder#hash()}
 * match current serde_json ({@link SerdeJsonFloats#DEFAULT}); pass {@link SerdeJsonFloats#RYU}
 * to match a Rust build locked to serde_json 1.0.146 or earlier.
 *
 * <p>Two ways in: {@link #of(BuildGraph)} maps a graph (node id as the Rust name, edges as
 * 1-based insertion indexes), and {@link #builder()} takes exactly Rust-shaped input, including
 * unchecked edges (Rust's {@code add_edge} accepts any ids).
 */
public final class RustStableHash {
  private static final HexFormat HEX = HexFormat.of();

  private RustStableHash() {}

  /**
   * The Rust hash of a graph: nodes in insertion order named by their id, edges in insertion
   * order between 1-based insertion indexes.
   *
   * @param graph the graph
   * @return 64 lowercase hex digits
   */
  public static String of(BuildGraph graph) {
    return of(graph, SerdeJsonFloats.DEFAULT);
  }

  /**
   * The Rust hash of a graph as a Rust build with the given serde_json float text computes it.
   *
   * @param graph the graph
   * @param floats the serde_json generation of the Rust build
   * @return 64 lowercase hex digits
   */
  public static String of(BuildGraph graph, SerdeJsonFloats floats) {
    Builder b = builder();
    Map<String, Long> ids = HashMap.newHashMap(graph.nodeCount());
    for (GraphNode n : graph.nodes()) {
      ids.put(n.id(), b.addNode(n.id(), n.config()));
    }
    for (Edge e : graph.edges()) {
      b.addEdge(ids.get(e.from()), ids.get(e.to()));
    }
    return b.hash(floats);
  }

  /** Starts an empty Rust-shaped graph. */
  public static Builder builder() {
    return new Builder();
  }

  /** A Rust-shaped graph: named nodes with configs and raw id pairs as edges. */
  public static final class Builder {
    private final List<String> names = new ArrayList<>();
    private final List<ModelConfig> configs = new ArrayList<>();
    private long[] edges = new long[16];
    private int edgeWords;

    private Builder() {}

    /**
     * Adds a node, as Rust's {@code add_node(name, config)} does.
     *
     * @param name the node name
     * @param config its config
     * @return the node id Rust would assign: the 1-based insertion index
     * @throws GraphException if the name or config is null or the name is malformed
     */
    public long addNode(String name, ModelConfig config) {
      if (name == null || config == null) {
        throw new GraphException("Rust node name and config must not be null");
      }
      if (!Utf8.isWellFormed(name)) {
        throw new GraphException("Rust node name '" + name + "' contains an unpaired surrogate");
      }
      names.add(name);
      configs.add(config);
      return names.size();
    }

    /**
     * Adds an edge, as Rust's {@code add_edge(from, to)} does: unchecked, any u64 ids (a negative
     * {@code long} stands for the u64 with the same bits).
     *
     * @param from the source id
     * @param to the target id
     * @return this builder
     */
    public Builder addEdge(long from, long to) {
      if (edgeWords + 2 > edges.length) {
        edges = java.util.Arrays.copyOf(edges, edges.length * 2);
      }
      edges[edgeWords++] = from;
      edges[edgeWords++] = to;
      return this;
    }

    /**
     * Computes the hash.
     *
     * @return 64 lowercase hex digits, as Rust's {@code stable_hash} returns
     */
    public String hash() {
      return hash(SerdeJsonFloats.DEFAULT);
    }

    /**
     * Computes the hash as a Rust build with the given serde_json float text does.
     *
     * @param floats the serde_json generation of the Rust build
     * @return 64 lowercase hex digits
     */
    public String hash(SerdeJsonFloats floats) {
      java.util.Objects.requireNonNull(floats, "floats");
      DigestSink s = new DigestSink(null);
      try {
        for (int i = 0; i < names.size(); i++) {
          s.u64le(i + 1L);
          s.utf8(names.get(i));
          ConfigJson.writeCompact(configs.get(i), s, floats);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e); // DigestSink does not throw
      }
      for (int k = 0; k < edgeWords; k++) {
        s.u64le(edges[k]);
      }
      return HEX.formatHex(s.finish());
    }
  }
}
