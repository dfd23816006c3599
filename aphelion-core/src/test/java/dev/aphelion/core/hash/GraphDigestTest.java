package dev.aphelion.core.hash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.aphelion.core.config.ConfigValue;
import dev.aphelion.core.config.ModelConfig;
import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.graph.GraphNode;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GraphDigestTest {
  /** Frozen golden vectors; they are also listed in docs/graph-hash.md. */
  static final Map<String, String> GOLDEN = new LinkedHashMap<>();

  static {
    GOLDEN.put("G1 empty", "6d9e50799f123ffbb994b0d868c7b749aaf9e76be727fd767604a3634fbcc1fd");
    GOLDEN.put("G2 one relu node", "4bcc8361d1d5de8ebcb73bb1f923bffebfe95f657fc702f682720dadd6aca6b3");
    GOLDEN.put("G3 encoder->decoder", "131c73f8d63bd33fb572446fcdb0c409b37c9e6b60a2138636fd3252e77c3ab5");
    GOLDEN.put("G4 G3 + batch_size=32", "56b529bac8e9e1082648b8dc736e4426a4d05a3459a14a2632c05d82b105a160");
    GOLDEN.put("G5 p=1 (long)", "e78716666d24e023c9093cd11eaf6ab2fcb5b5fdce3afe952edcf5dd8c7a6de1");
    GOLDEN.put("G6 p=1.0 (double)", "82078ac4a02935c76b810b49bc6003b734f1e175fffac3ce15ec567533c4f232");
    GOLDEN.put("G7 diamond of presets", "b251737eded3d2142e43f392171bb8d076cba08ec39bda461bf1ad66e5af2e58");
    GOLDEN.put(
        "G8 nested values and attributes",
        "9c2079ba4aacb45507c5eda3beb43fbac079da555e96f0764cbb554c7d2f6ef2");
    GOLDEN.put("G9 unicode and escapes", "8cb71441e623222328df8eb46b38a84bbb2e63c77196d63a154bb77262f4259b");
    GOLDEN.put("G10 list of lists", "791e47da1ca0ffef5d8aeed7d3105d6be546b3cfbe9c52c88127f6833df618b7");
  }

  @Test
  void goldenVectors() {
    Map<String, BuildGraph> graphs = GoldenGraphs.all();
    assertEquals(GOLDEN.keySet(), graphs.keySet());
    Set<String> distinct = new HashSet<>();
    for (Map.Entry<String, BuildGraph> e : graphs.entrySet()) {
      String hex = GraphDigest.of(e.getValue()).hex();
      assertEquals(GOLDEN.get(e.getKey()), hex, e.getKey());
      distinct.add(hex);
    }
    assertEquals(graphs.size(), distinct.size());
  }

  @Test
  void emptyGraphEncodingIsTheDocumentedBytes() throws Exception {
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    expected.write(HexFormat.of().parseHex("00000015"));
    expected.write("aphelion.graph-digest".getBytes(StandardCharsets.US_ASCII));
    expected.write(HexFormat.of().parseHex("00000001" + "0600000000" + "00000000" + "00000000"));
    BuildGraph empty = BuildGraph.builder().build();
    assertArrayEquals(expected.toByteArray(), GraphDigest.canonicalEncoding(empty));
    byte[] sha = MessageDigest.getInstance("SHA-256").digest(expected.toByteArray());
    assertArrayEquals(sha, GraphDigest.of(empty).bytes());
  }

  @Test
  void oneNodeEncodingIsTheDocumentedBytes() throws Exception {
    BuildGraph g =
        BuildGraph.builder()
            .addNode(GraphNode.builder("x", "relu").attribute("k", 7).attribute("meta.note", "hi").build())
            .build();
    String hex =
        "00000015" + HexFormat.of().formatHex("aphelion.graph-digest".getBytes(StandardCharsets.US_ASCII))
            + "00000001"
            + "0600000000" // graph attributes: empty map
            + "00000001" // one node
            + "00000001" + "78" // id "x"
            + "00000004" + "72656c75" // op "relu"
            + "00000004" + "72656c75" // config name "relu"
            + "00000005" + "302e302e30" // version "0.0.0"
            + "0600000000" // params: empty map
            + "0600000001" + "00000001" + "6b" + "02" + "0000000000000007" // attrs {k: 7L}
            + "00000000"; // no edges
    assertEquals(hex, HexFormat.of().formatHex(GraphDigest.canonicalEncoding(g)));
  }

  @Test
  void independentOfInsertionOrder() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      ids.add("n" + i);
    }
    List<String[]> edges = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      for (int j = i + 1; j < 60; j += 7) {
        edges.add(new String[] {"n" + i, "n" + j});
      }
    }
    GraphDigest first = null;
    Random random = new Random(42);
    for (int trial = 0; trial < 5; trial++) {
      Collections.shuffle(ids, random);
      Collections.shuffle(edges, random);
      BuildGraph.Builder b = BuildGraph.builder();
      b.attribute("z", 1).attribute("a", 2.5);
      for (String id : ids) {
        b.addNode(
            GraphNode.builder(id, "linear")
                .config(ModelConfig.builder("c", "1.0.0").param("y", 1).param("x", "s").build())
                .attribute("w", id)
                .attribute("b", true)
                .build());
      }
      for (String[] e : edges) {
        b.addEdge(e[0], e[1]);
      }
      GraphDigest d = GraphDigest.of(b.build());
      if (first == null) {
        first = d;
      } else {
        assertEquals(first, d);
      }
    }
  }

  @Test
  void rustNearCollisionsDiffer() {
    // Rust's stable_hash gives these two the same hash (no framing); the canonical digest must not.
    ModelConfig cfg = ModelConfig.of("c", "1.0.0");
    String json = "{\"name\":\"c\",\"version\":\"1.0.0\",\"params\":{}}";
    BuildGraph two =
        BuildGraph.builder().addNode("a", "op", cfg).addNode("b", "op", cfg).build();
    BuildGraph one =
        BuildGraph.builder().addNode("a" + json + "\u0002\0\0\0\0\0\0\0" + "b", "op", cfg).build();
    assertEquals(RustStableHash.of(two), RustStableHash.of(one));
    assertNotEquals(GraphDigest.of(two), GraphDigest.of(one));

    // Field-boundary shifts: id "ab"+op "c" versus id "a"+op "bc".
    BuildGraph ab = BuildGraph.builder().addNode("ab", "c", cfg).build();
    BuildGraph a = BuildGraph.builder().addNode("a", "bc", cfg).build();
    assertNotEquals(GraphDigest.of(ab), GraphDigest.of(a));

    // Rust hashes depend on edge order; the digest does not, and reversed edges still differ.
    BuildGraph fwd = BuildGraph.builder().addNode("a", "op", cfg).addNode("b", "op", cfg).addEdge("a", "b").build();
    BuildGraph back = BuildGraph.builder().addNode("a", "op", cfg).addNode("b", "op", cfg).addEdge("b", "a").build();
    assertNotEquals(GraphDigest.of(fwd), GraphDigest.of(back));
  }

  @Test
  void typeAndValueDistinctions() {
    Set<GraphDigest> seen = new HashSet<>();
    List<ConfigValue> values =
        List.of(
            ConfigValue.of(1),
            ConfigValue.of(1.0),
            ConfigValue.of(0.0),
            ConfigValue.of(-0.0),
            ConfigValue.of(0),
            ConfigValue.of("1"),
            ConfigValue.of(true),
            ConfigValue.NULL,
            ConfigValue.ofList(),
            ConfigValue.ofMap(Map.of()),
            ConfigValue.ofList(ConfigValue.NULL),
            ConfigValue.ofList(ConfigValue.ofList()));
    for (ConfigValue v : values) {
      seen.add(GraphDigest.of(GoldenGraphs.param(v)));
    }
    assertEquals(values.size(), seen.size());
  }

  @Test
  void metaAttributesAreIgnoredOthersCount() {
    BuildGraph base = GoldenGraphs.encoderDecoder();
    GraphDigest d = GraphDigest.of(base);
    assertEquals(d, GraphDigest.of(base.toBuilder().attribute("meta.built_by", "me").build()));
    GraphNode enc = base.node("encoder");
    assertEquals(
        d,
        GraphDigest.of(
            base.toBuilder().replaceNode(enc.withAttribute("meta.line", ConfigValue.of(3))).build()));
    assertNotEquals(
        d,
        GraphDigest.of(
            base.toBuilder().replaceNode(enc.withAttribute("line", ConfigValue.of(3))).build()));
    assertNotEquals(d, GraphDigest.of(base.toBuilder().attribute("batch_size", 32).build()));
    assertNotEquals(d, GraphDigest.of(base.toBuilder().attribute("metadata", 1).build()));
  }

  @Test
  void versionTextCounts() {
    BuildGraph a = BuildGraph.builder().addNode("n", "op", ModelConfig.of("c", "1.0")).build();
    BuildGraph b = BuildGraph.builder().addNode("n", "op", ModelConfig.of("c", "1.0.0")).build();
    assertNotEquals(GraphDigest.of(a), GraphDigest.of(b));
  }

  @Test
  void hexRoundTripAndEquality() {
    GraphDigest d = GraphDigest.of(GoldenGraphs.encoderDecoder());
    assertEquals(d, GraphDigest.fromHex(d.hex()));
    assertEquals(d, GraphDigest.fromHex(d.hex().toUpperCase()));
    assertEquals(d.hashCode(), GraphDigest.fromHex(d.hex()).hashCode());
    assertEquals(64, d.toString().length());
    assertThrows(SerializationException.class, () -> GraphDigest.fromHex("abc"));
    assertThrows(SerializationException.class, () -> GraphDigest.fromHex("zz".repeat(32)));
  }

  @Test
  void streamingEncodingEqualsInMemoryEncoding() throws Exception {
    for (BuildGraph g : GoldenGraphs.all().values()) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      GraphDigest.writeCanonicalEncoding(g, out);
      byte[] enc = GraphDigest.canonicalEncoding(g);
      assertArrayEquals(enc, out.toByteArray());
      assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(enc), GraphDigest.of(g).bytes());
    }
  }
}
