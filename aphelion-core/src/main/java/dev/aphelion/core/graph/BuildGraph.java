package dev.aphelion.core.graph;

import dev.aphelion.core.config.ConfigValue;
import dev.aphelion.core.config.ConfigValue.MapValue;
import dev.aphelion.core.config.ModelConfig;
import dev.aphelion.core.config.Utf8;
import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.GraphException;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * An immutable, acyclic model graph: {@link GraphNode}s with unique ids, directed {@link Edge}s
 * between them and graph-level attributes.
 *
 * <p>Made by {@link #builder()}; a pipeline stage derives a modified graph with {@link
 * #toBuilder()}. The builder checks each edge when it is added (both ends exist, no duplicate, no
 * self-loop); {@link Builder#build()} rejects a cycle with a {@link GraphException} that names
 * the nodes on it.
 *
 * <p><b>Orders.</b> {@link #nodes()} and {@link #edges()} keep insertion order (that is what the
 * Rust-compatible hash needs). {@link #nodesInIdOrder()}, {@link #edgesInIdOrder()}, {@link
 * #successors} and {@link #predecessors} are sorted by id in {@link Utf8#ORDER}. {@link
 * #topologicalOrder()} is Kahn's algorithm taking the smallest ready id first, so it depends only
 * on the graph's content, never on insertion order.
 *
 * <p><b>Cost.</b> Building is O((V + E) log V): ids are sorted once, then every structure is an
 * array indexed by id rank (compressed adjacency lists); the topological sort uses a binary heap
 * of ranks. Lookups by id are hash lookups. 100,000 nodes build in well under a second.
 *
 * <p>Equality is by content and independent of insertion order: same nodes, same edge set, same
 * attributes. Graph attributes hold the same typed values as config params; stages record facts
 * such as a batch size there, and all of them except keys starting with {@value
 * GraphNode#META_PREFIX} count in {@link dev.aphelion.core.hash.GraphDigest}.
 */
public final class BuildGraph {
  private final List<GraphNode> nodes; // insertion order
  private final List<Edge> edges; // insertion order
  private final SortedMap<String, ConfigValue> attributes;
  private final Map<String, Integer> rankOf; // id -> rank in Utf8.ORDER
  private final GraphNode[] byRank;
  private final int[] succOff;
  private final int[] succ; // successor ranks, sorted per node
  private final Edge[] edgesByRank; // parallel to succ: edges sorted by (from, to)
  private final int[] predOff;
  private final int[] pred; // predecessor ranks, sorted per node
  private final int[] topo; // ranks in topological order

  private BuildGraph(Builder b) {
    int n = b.nodes.size();
    this.nodes = List.copyOf(b.nodes.values());
    this.edges = List.copyOf(b.edges);
    this.attributes = ((MapValue) ConfigValue.ofMap(b.attributes)).values();

    byRank = nodes.toArray(new GraphNode[0]);
    Arrays.sort(byRank, (x, y) -> Utf8.compare(x.id(), y.id()));
    rankOf = HashMap.newHashMap(n);
    for (int r = 0; r < n; r++) {
      rankOf.put(byRank[r].id(), r);
    }

    int m = edges.size();
    int[] from = new int[m];
    int[] to = new int[m];
    for (int i = 0; i < m; i++) {
      Edge e = edges.get(i);
      from[i] = rankOf.get(e.from());
      to[i] = rankOf.get(e.to());
    }
    succOff = new int[n + 1];
    succ = new int[m];
    long[] keyed = csr(n, from, to, succOff, succ);
    edgesByRank = new Edge[m];
    for (int k = 0; k < m; k++) {
      edgesByRank[k] = edges.get((int) keyed[k]);
    }
    predOff = new int[n + 1];
    pred = new int[m];
    csr(n, to, from, predOff, pred);

    topo = new int[n];
    int[] indegree = new int[n];
    int emitted = kahn(n, indegree);
    if (emitted < n) {
      for (int i = 0; i < emitted; i++) {
        indegree[topo[i]] = -1; // mark emitted nodes
      }
      throw new GraphException("graph has a cycle: " + describeCycle(emitted, indegree));
    }
  }

  /**
   * Fills a compressed adjacency list: for each node {@code a}, the {@code b}s of pairs (a, b),
   * sorted. Returns the (b << 32 | pair index) keys in layout order.
   */
  private static long[] csr(int n, int[] a, int[] b, int[] off, int[] out) {
    int m = a.length;
    for (int i = 0; i < m; i++) {
      off[a[i] + 1]++;
    }
    for (int r = 0; r < n; r++) {
      off[r + 1] += off[r];
    }
    int[] pos = Arrays.copyOf(off, n);
    long[] keyed = new long[m];
    for (int i = 0; i < m; i++) {
      keyed[pos[a[i]]++] = ((long) b[i] << 32) | i;
    }
    for (int r = 0; r < n; r++) {
      if (off[r + 1] - off[r] > 1) {
        Arrays.sort(keyed, off[r], off[r + 1]);
      }
    }
    for (int k = 0; k < m; k++) {
      out[k] = (int) (keyed[k] >>> 32);
    }
    return keyed;
  }

  /** Kahn's algorithm, smallest rank first. Returns how many nodes were emitted. */
  private int kahn(int n, int[] indegree) {
    for (int r = 0; r < n; r++) {
      indegree[r] = predOff[r + 1] - predOff[r];
    }
    IntMinHeap ready = new IntMinHeap(n);
    for (int r = 0; r < n; r++) {
      if (indegree[r] == 0) {
        ready.add(r);
      }
    }
    int count = 0;
    while (!ready.isEmpty()) {
      int r = ready.poll();
      topo[count++] = r;
      for (int k = succOff[r]; k < succOff[r + 1]; k++) {
        if (--indegree[succ[k]] == 0) {
          ready.add(succ[k]);
        }
      }
    }
    return count;
  }

  /**
   * Every node Kahn could not emit has a predecessor that was not emitted either; walking such
   * predecessors from the smallest leftover node must revisit a node, which closes a cycle.
   */
  private String describeCycle(int emitted, int[] leftover) {
    int n = byRank.length;
    int start = 0;
    while (leftover[start] < 0) {
      start++;
    }
    int[] seenAt = new int[n];
    Arrays.fill(seenAt, -1);
    int[] walk = new int[n - emitted + 1];
    int len = 0;
    int v = start;
    while (seenAt[v] < 0) {
      seenAt[v] = len;
      walk[len++] = v;
      int next = -1;
      for (int k = predOff[v]; k < predOff[v + 1]; k++) {
        if (leftover[pred[k]] >= 0) {
          next = pred[k];
          break;
        }
      }
      v = next;
    }
    // walk[seenAt[v]..len) follows predecessor links; reverse it to follow edges, and start at
    // the smallest id so that the message does not depend on where the walk began.
    int from = seenAt[v];
    int cycleLength = len - from;
    int[] cycle = new int[cycleLength];
    for (int i = 0; i < cycleLength; i++) {
      cycle[i] = walk[from + (cycleLength - i) % cycleLength];
    }
    int first = 0;
    for (int i = 1; i < cycleLength; i++) {
      if (cycle[i] < cycle[first]) {
        first = i;
      }
    }
    StringBuilder sb = new StringBuilder();
    int shown = Math.min(cycleLength, 20);
    for (int i = 0; i < shown; i++) {
      sb.append('\'').append(byRank[cycle[(first + i) % cycleLength]].id()).append("' -> ");
    }
    if (shown < cycleLength) {
      sb.append("... (").append(cycleLength - shown).append(" more) -> ");
    }
    sb.append('\'').append(byRank[cycle[first]].id()).append('\'');
    sb.append(" (").append(n - emitted).append(" nodes are on or behind cycles)");
    return sb.toString();
  }

  /** Starts an empty builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this graph's nodes, edges and attributes (insertion order kept). */
  public Builder toBuilder() {
    Builder b = new Builder();
    for (GraphNode node : nodes) {
      b.nodes.put(node.id(), node);
    }
    b.edges.addAll(edges);
    b.attributes.putAll(attributes);
    return b;
  }

  /** The number of nodes. */
  public int nodeCount() {
    return byRank.length;
  }

  /** The number of edges. */
  public int edgeCount() {
    return edges.size();
  }

  /** The nodes in insertion order. */
  public List<GraphNode> nodes() {
    return nodes;
  }

  /** The nodes sorted by id ({@link Utf8#ORDER}). */
  public List<GraphNode> nodesInIdOrder() {
    return List.of(byRank);
  }

  /** The edges in insertion order. */
  public List<Edge> edges() {
    return edges;
  }

  /** The edges sorted by source id, then target id ({@link Utf8#ORDER}). */
  public List<Edge> edgesInIdOrder() {
    return List.of(edgesByRank);
  }

  /** The graph-level attributes, sorted by key. */
  public SortedMap<String, ConfigValue> attributes() {
    return attributes;
  }

  /**
   * One graph-level attribute.
   *
   * @param key the key
   * @return the value, or empty when absent
   */
  public Optional<ConfigValue> attribute(String key) {
    return Optional.ofNullable(attributes.get(key));
  }

  /**
   * Whether a node with this id exists.
   *
   * @param id the node id
   * @return {@code true} if it exists
   */
  public boolean contains(String id) {
    return rankOf.containsKey(id);
  }

  /**
   * Looks a node up.
   *
   * @param id the node id
   * @return the node, or empty if there is none with this id
   */
  public Optional<GraphNode> findNode(String id) {
    Integer r = rankOf.get(id);
    return r == null ? Optional.empty() : Optional.of(byRank[r]);
  }

  /**
   * A node by id.
   *
   * @param id the node id
   * @return the node
   * @throws GraphException if there is no node with this id
   */
  public GraphNode node(String id) {
    return byRank[rank(id)];
  }

  private int rank(String id) {
    Integer r = rankOf.get(id);
    if (r == null) {
      throw new GraphException("unknown node '" + id + "' (graph has " + nodeCount() + " nodes)");
    }
    return r;
  }

  /**
   * The ids of the nodes that {@code id} has edges to, sorted by id.
   *
   * @param id the node id
   * @return the successor ids
   * @throws GraphException if there is no such node
   */
  public List<String> successors(String id) {
    int r = rank(id);
    return idList(succ, succOff[r], succOff[r + 1]);
  }

  /**
   * The ids of the nodes with edges to {@code id}, sorted by id.
   *
   * @param id the node id
   * @return the predecessor ids
   * @throws GraphException if there is no such node
   */
  public List<String> predecessors(String id) {
    int r = rank(id);
    return idList(pred, predOff[r], predOff[r + 1]);
  }

  private List<String> idList(int[] ranks, int from, int to) {
    return new AbstractList<>() {
      @Override
      public String get(int i) {
        return byRank[ranks[from + java.util.Objects.checkIndex(i, to - from)]].id();
      }

      @Override
      public int size() {
        return to - from;
      }
    };
  }

  /**
   * The nodes in topological order: every edge goes from an earlier to a later node; among nodes
   * that are ready at the same time, the smallest id comes first. Depends only on content.
   */
  public List<GraphNode> topologicalOrder() {
    return new AbstractList<>() {
      @Override
      public GraphNode get(int i) {
        return byRank[topo[java.util.Objects.checkIndex(i, topo.length)]];
      }

      @Override
      public int size() {
        return topo.length;
      }
    };
  }

  /**
   * The graph in Graphviz DOT, see {@link DotExporter}.
   *
   * @return the DOT text
   */
  public String toDot() {
    return DotExporter.toDot(this);
  }

  /** Equal when both graphs have the same nodes, the same set of edges and the same attributes. */
  @Override
  public boolean equals(Object o) {
    return o instanceof BuildGraph g
        && Arrays.equals(byRank, g.byRank)
        && Arrays.equals(edgesByRank, g.edgesByRank)
        && attributes.equals(g.attributes);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * Arrays.hashCode(byRank) + Arrays.hashCode(edgesByRank))
        + attributes.hashCode();
  }

  /** A short summary: node and edge counts. */
  @Override
  public String toString() {
    return "BuildGraph[" + nodeCount() + " nodes, " + edgeCount() + " edges, " + attributes.size()
        + " attributes]";
  }

  /**
   * Assembles a {@link BuildGraph}. Not thread-safe. Each method checks its input at once, so the
   * exception points at the call that caused it; {@link #build()} only has to check for cycles.
   */
  public static final class Builder {
    private final LinkedHashMap<String, GraphNode> nodes = new LinkedHashMap<>();
    private final LinkedHashSet<Edge> edges = new LinkedHashSet<>();
    private final TreeMap<String, ConfigValue> attributes = new TreeMap<>(Utf8.ORDER);

    private Builder() {}

    /**
     * Adds a node.
     *
     * @param node the node
     * @return this builder
     * @throws GraphException if a node with the same id exists
     */
    public Builder addNode(GraphNode node) {
      if (node == null) {
        throw new GraphException("node must not be null");
      }
      GraphNode old = nodes.putIfAbsent(node.id(), node);
      if (old != null) {
        throw new GraphException(
            "duplicate node id '" + node.id() + "' (existing op '" + old.opType() + "', new op '"
                + node.opType() + "')");
      }
      return this;
    }

    /**
     * Adds a node without attributes.
     *
     * @param id the unique node id
     * @param opType the op type
     * @param config the node's config
     * @return this builder
     * @throws GraphException if a node with the same id exists
     */
    public Builder addNode(String id, String opType, ModelConfig config) {
      return addNode(GraphNode.of(id, opType, config));
    }

    /**
     * Adds a node with the default config ({@link GraphNode#defaultConfig}) and no attributes.
     *
     * @param id the unique node id
     * @param opType the op type
     * @return this builder
     * @throws GraphException if a node with the same id exists
     */
    public Builder addNode(String id, String opType) {
      return addNode(GraphNode.builder(id, opType).build());
    }

    /**
     * Replaces the node with the same id, keeping its position and its edges.
     *
     * @param node the new version of the node
     * @return this builder
     * @throws GraphException if there is no node with that id
     */
    public Builder replaceNode(GraphNode node) {
      if (node == null || !nodes.containsKey(node.id())) {
        throw new GraphException(
            "cannot replace unknown node '" + (node == null ? null : node.id()) + "'");
      }
      nodes.put(node.id(), node);
      return this;
    }

    /**
     * Removes a node and every edge touching it.
     *
     * @param id the node id
     * @return this builder
     * @throws GraphException if there is no such node
     */
    public Builder removeNode(String id) {
      return removeNodes(List.of(id));
    }

    /**
     * Removes several nodes and every edge touching them, in one pass over the edges.
     *
     * @param ids the node ids
     * @return this builder
     * @throws GraphException if one of them does not exist (nothing is removed then)
     */
    public Builder removeNodes(Collection<String> ids) {
      Set<String> gone = new HashSet<>(ids);
      for (String id : gone) {
        if (!nodes.containsKey(id)) {
          throw new GraphException("cannot remove unknown node '" + id + "'");
        }
      }
      nodes.keySet().removeAll(gone);
      edges.removeIf(e -> gone.contains(e.from()) || gone.contains(e.to()));
      return this;
    }

    /**
     * Whether a node with this id has been added.
     *
     * @param id the node id
     * @return {@code true} if present
     */
    public boolean containsNode(String id) {
      return nodes.containsKey(id);
    }

    /**
     * Adds an edge between two existing nodes.
     *
     * @param from the source node id
     * @param to the target node id
     * @return this builder
     * @throws GraphException if an end is unknown, the edge exists already, or it is a self-loop
     *     (a cycle of one node)
     */
    public Builder addEdge(String from, String to) {
      checkEnd(from, to, from);
      checkEnd(from, to, to);
      if (from.equals(to)) {
        throw new GraphException(
            "self-loop on node '" + from + "' would make a cycle: '" + from + "' -> '" + to + "'");
      }
      if (!edges.add(new Edge(from, to))) {
        throw new GraphException("duplicate edge '" + from + "' -> '" + to + "'");
      }
      return this;
    }

    private void checkEnd(String from, String to, String end) {
      if (end == null || !nodes.containsKey(end)) {
        throw new GraphException(
            "edge '" + from + "' -> '" + to + "' refers to unknown node '" + end
                + "' (add the node before the edge)");
      }
    }

    /**
     * Removes an edge.
     *
     * @param from the source node id
     * @param to the target node id
     * @return this builder
     * @throws GraphException if there is no such edge
     */
    public Builder removeEdge(String from, String to) {
      if (!edges.remove(new Edge(from, to))) {
        throw new GraphException("cannot remove unknown edge '" + from + "' -> '" + to + "'");
      }
      return this;
    }

    /**
     * Sets a graph-level attribute.
     *
     * @param key the key
     * @param value the value
     * @return this builder
     */
    public Builder attribute(String key, ConfigValue value) {
      if (key == null || value == null) {
        throw new GraphException("graph attribute key and value must not be null");
      }
      if (!Utf8.isWellFormed(key)) {
        throw new GraphException("graph attribute key '" + key + "' has an unpaired surrogate");
      }
      attributes.put(key, value);
      return this;
    }

    /**
     * Sets a long graph attribute.
     *
     * @param key the key
     * @param value the value
     * @return this builder
     */
    public Builder attribute(String key, long value) {
      return attribute(key, ConfigValue.of(value));
    }

    /**
     * Sets a double graph attribute.
     *
     * @param key the key
     * @param value a finite value
     * @return this builder
     * @throws GraphException if the value is NaN or infinite
     */
    public Builder attribute(String key, double value) {
      try {
        return attribute(key, ConfigValue.of(value));
      } catch (ConfigException e) {
        throw new GraphException("graph attribute '" + key + "': " + e.getMessage(), e);
      }
    }

    /**
     * Sets a boolean graph attribute.
     *
     * @param key the key
     * @param value the value
     * @return this builder
     */
    public Builder attribute(String key, boolean value) {
      return attribute(key, ConfigValue.of(value));
    }

    /**
     * Sets a string graph attribute.
     *
     * @param key the key
     * @param value the value
     * @return this builder
     */
    public Builder attribute(String key, String value) {
      return attribute(key, ConfigValue.of(value));
    }

    /**
     * Removes a graph-level attribute if present.
     *
     * @param key the key
     * @return this builder
     */
    public Builder removeAttribute(String key) {
      attributes.remove(key);
      return this;
    }

    /**
     * Builds the graph.
     *
     * @return the immutable graph
     * @throws GraphException if the edges form a cycle (the message names nodes on it)
     */
    public BuildGraph build() {
      return new BuildGraph(this);
    }
  }
}
