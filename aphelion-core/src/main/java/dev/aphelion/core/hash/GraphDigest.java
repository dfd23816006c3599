package dev.aphelion.core.hash;

import dev.aphelion.core.config.ConfigValue;
import dev.aphelion.core.config.ConfigValue.BooleanValue;
import dev.aphelion.core.config.ConfigValue.DoubleValue;
import dev.aphelion.core.config.ConfigValue.ListValue;
import dev.aphelion.core.config.ConfigValue.LongValue;
import dev.aphelion.core.config.ConfigValue.MapValue;
import dev.aphelion.core.config.ConfigValue.NullValue;
import dev.aphelion.core.config.ConfigValue.StringValue;
import dev.aphelion.core.config.ModelConfig;
import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.graph.Edge;
import dev.aphelion.core.graph.GraphNode;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * The canonical fingerprint of a {@link BuildGraph}: SHA-256 over the canonical encoding
 * specified in {@code docs/graph-hash.md} (version 1).
 *
 * <p>Properties: independent of the order in which nodes, edges and attributes were added; every
 * field is type-tagged and length-prefixed, so the encoding is prefix-free and two different
 * graphs never share an encoding; integers and doubles are distinct ({@code 1} vs {@code 1.0});
 * NaN cannot occur (configs reject it). Node and graph attributes whose key starts with {@value
 * #IGNORED_PREFIX} are not hashed; everything else is.
 *
 * <p>Encoding streams straight into {@link MessageDigest}; no intermediate byte array or string
 * of the graph is built. Instances are immutable values holding the 32 digest bytes.
 */
public final class GraphDigest {
  /** Attribute keys with this prefix are annotations and are left out of the digest. */
  public static final String IGNORED_PREFIX = GraphNode.META_PREFIX;

  /** The domain tag that starts every encoding. */
  public static final String DOMAIN = "aphelion.graph-digest";

  /** The version of the canonical encoding that this class implements. */
  public static final int ENCODING_VERSION = 1;

  static final int TAG_NULL = 0x00;
  static final int TAG_BOOLEAN = 0x01;
  static final int TAG_LONG = 0x02;
  static final int TAG_DOUBLE = 0x03;
  static final int TAG_STRING = 0x04;
  static final int TAG_LIST = 0x05;
  static final int TAG_MAP = 0x06;

  private static final HexFormat HEX = HexFormat.of();

  private final byte[] bytes;

  private GraphDigest(byte[] bytes) {
    this.bytes = bytes;
  }

  /**
   * Computes the digest of a graph.
   *
   * @param graph the graph
   * @return its digest
   */
  public static GraphDigest of(BuildGraph graph) {
    DigestSink sink = new DigestSink(null);
    encode(graph, sink);
    return new GraphDigest(sink.finish());
  }

  /**
   * The canonical encoding itself (the bytes that are hashed), for inspection and tests. Builds
   * the whole encoding in memory; {@link #of} does not.
   *
   * @param graph the graph
   * @return the encoding
   */
  public static byte[] canonicalEncoding(BuildGraph graph) {
    ByteArrayOutputStream copy = new ByteArrayOutputStream();
    DigestSink sink = new DigestSink(copy);
    encode(graph, sink);
    sink.finish();
    return copy.toByteArray();
  }

  /**
   * Streams the canonical encoding into {@code out}.
   *
   * @param graph the graph
   * @param out where the bytes go (not closed); I/O failures surface as {@link
   *     java.io.UncheckedIOException}
   */
  public static void writeCanonicalEncoding(BuildGraph graph, OutputStream out) {
    DigestSink sink = new DigestSink(out);
    encode(graph, sink);
    sink.finish();
  }

  /**
   * Parses a digest from 64 hex digits (either case).
   *
   * @param hex the hex text
   * @return the digest
   * @throws SerializationException if the text is not 64 hex digits
   */
  public static GraphDigest fromHex(String hex) {
    if (hex == null || hex.length() != 64) {
      throw new SerializationException(
          "a graph digest is 64 hex digits, got " + (hex == null ? "null" : hex.length() + " characters"));
    }
    try {
      return new GraphDigest(HEX.parseHex(hex));
    } catch (IllegalArgumentException e) {
      throw new SerializationException("not a hex digest: '" + hex + "'", e);
    }
  }

  private static void encode(BuildGraph graph, DigestSink s) {
    s.str(DOMAIN);
    s.u32be(ENCODING_VERSION);
    counted(graph.attributes(), s);
    List<GraphNode> nodes = graph.nodesInIdOrder();
    s.u32be(nodes.size());
    for (GraphNode n : nodes) {
      s.str(n.id());
      s.str(n.opType());
      config(n.config(), s);
      counted(n.attributes(), s);
    }
    List<Edge> edges = graph.edgesInIdOrder();
    s.u32be(edges.size());
    for (Edge e : edges) {
      s.str(e.from());
      s.str(e.to());
    }
  }

  private static void config(ModelConfig c, DigestSink s) {
    s.str(c.name());
    s.str(c.versionText());
    map(c.params(), s);
  }

  /** A map value of the attributes that count (keys not starting with the ignored prefix). */
  private static void counted(SortedMap<String, ConfigValue> attributes, DigestSink s) {
    int count = 0;
    for (String key : attributes.keySet()) {
      if (!key.startsWith(IGNORED_PREFIX)) {
        count++;
      }
    }
    s.u8(TAG_MAP);
    s.u32be(count);
    for (Map.Entry<String, ConfigValue> e : attributes.entrySet()) {
      if (!e.getKey().startsWith(IGNORED_PREFIX)) {
        s.str(e.getKey());
        value(e.getValue(), s);
      }
    }
  }

  private static void map(SortedMap<String, ConfigValue> entries, DigestSink s) {
    s.u8(TAG_MAP);
    s.u32be(entries.size());
    for (Map.Entry<String, ConfigValue> e : entries.entrySet()) {
      s.str(e.getKey());
      value(e.getValue(), s);
    }
  }

  private static void value(ConfigValue v, DigestSink s) {
    switch (v) {
      case NullValue n -> s.u8(TAG_NULL);
      case BooleanValue(boolean b) -> {
        s.u8(TAG_BOOLEAN);
        s.u8(b ? 1 : 0);
      }
      case LongValue(long l) -> {
        s.u8(TAG_LONG);
        s.u64be(l);
      }
      case DoubleValue(double d) -> {
        // Configs reject NaN, so raw bits are canonical; 0.0 and -0.0 stay distinct on purpose.
        s.u8(TAG_DOUBLE);
        s.u64be(Double.doubleToRawLongBits(d));
      }
      case StringValue(String str) -> {
        s.u8(TAG_STRING);
        s.str(str);
      }
      case ListValue(List<ConfigValue> items) -> {
        s.u8(TAG_LIST);
        s.u32be(items.size());
        for (ConfigValue item : items) {
          value(item, s);
        }
      }
      case MapValue(SortedMap<String, ConfigValue> entries) -> map(entries, s);
    }
  }

  /** The 32 digest bytes (a copy). */
  public byte[] bytes() {
    return bytes.clone();
  }

  /** The digest as 64 lowercase hex digits. */
  public String hex() {
    return HEX.formatHex(bytes);
  }

  /** Equal when the digest bytes are equal (compared in constant time). */
  @Override
  public boolean equals(Object o) {
    return o instanceof GraphDigest d && MessageDigest.isEqual(bytes, d.bytes);
  }

  @Override
  public int hashCode() {
    return (bytes[0] & 0xFF) << 24 | (bytes[1] & 0xFF) << 16 | (bytes[2] & 0xFF) << 8 | (bytes[3] & 0xFF);
  }

  /** The hex form, see {@link #hex()}. */
  @Override
  public String toString() {
    return hex();
  }
}
