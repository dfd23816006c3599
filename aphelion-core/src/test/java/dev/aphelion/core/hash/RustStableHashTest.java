package dev.aphelion.core.hash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.aphelion.core.config.ConfigValue;
import dev.aphelion.core.config.ModelConfig;
import dev.aphelion.core.config.ModelConfigs;
import dev.aphelion.core.graph.BuildGraph;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every vector of seed-semantics.md §1 for the Rust {@code stable_hash}. */
class RustStableHashTest {
  static ModelConfig transformer() {
    return ModelConfig.builder("transformer", "1.0.0")
        .param("d_model", 512)
        .param("n_heads", 8)
        .param("n_layers", 6)
        .param("dropout", 0.1)
        .build();
  }

  @Test
  void emptyGraph() {
    assertEquals(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        RustStableHash.builder().hash());
    assertEquals(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        RustStableHash.of(BuildGraph.builder().build()));
  }

  @Test
  void v1EncoderDecoder() {
    RustStableHash.Builder b = RustStableHash.builder();
    long enc = b.addNode("encoder", transformer());
    long dec = b.addNode("decoder", transformer());
    assertEquals(1, enc);
    assertEquals(2, dec);
    b.addEdge(enc, dec);
    assertEquals("c42707e03af1b7e4baf61a94150b1541513ffe220641273d9adabe504d7dc89e", b.hash());
  }

  @Test
  void v1FromBuildGraph() {
    BuildGraph g =
        BuildGraph.builder()
            .addNode("encoder", "transformer", transformer())
            .addNode("decoder", "transformer", transformer())
            .addEdge("encoder", "decoder")
            .attribute("ignored.by.rust", 1)
            .build();
    assertEquals(
        "c42707e03af1b7e4baf61a94150b1541513ffe220641273d9adabe504d7dc89e", RustStableHash.of(g));
  }

  @Test
  void v2ReversedEdge() {
    RustStableHash.Builder b = RustStableHash.builder();
    b.addNode("encoder", transformer());
    b.addNode("decoder", transformer());
    b.addEdge(2, 1);
    assertEquals("6dc1ba9606de571dd00a1a5836be72e9e10b6c0d68e6fbaac048373fa889d723", b.hash());
  }

  @Test
  void v5ShortVersion() throws Exception {
    RustStableHash.Builder b = RustStableHash.builder();
    b.addNode("test_node", ModelConfig.of("test", "1.0"));
    String expected = "97ceec1d6f2d95d6ca0552e56a432d1b5ee130116de5997f51f6da973d68498f";
    assertEquals(expected, b.hash());
    // And the documented byte stream hashes to the same value.
    byte[] head = HexFormat.of().parseHex("0100000000000000");
    byte[] rest =
        "test_node{\"name\":\"test\",\"version\":\"1.0\",\"params\":{}}"
            .getBytes(StandardCharsets.UTF_8);
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    md.update(head);
    md.update(rest);
    assertEquals(expected, HexFormat.of().formatHex(md.digest()));
  }

  @Test
  void v9SmallPreset() {
    RustStableHash.Builder b = RustStableHash.builder();
    b.addNode("small", ModelConfigs.small());
    assertEquals("fcef6c98754ba4efefa7c58f410242f951349e7953fb6b1f74793e25f34baf2d", b.hash());
  }

  @Test
  void v10ChainAndBranch() {
    ModelConfig node = ModelConfig.of("node", "1.0.0");
    BuildGraph base =
        BuildGraph.builder()
            .addNode("a", "op", node)
            .addNode("b", "op", node)
            .addNode("c", "op", node)
            .build();
    BuildGraph chain = base.toBuilder().addEdge("a", "b").addEdge("b", "c").build();
    BuildGraph branch = base.toBuilder().addEdge("a", "b").addEdge("a", "c").build();
    assertEquals(
        "f950c857a5cd0211abc3af79d5fb6d7608a88b896fbe702779467d0cf3ae3560",
        RustStableHash.of(chain));
    assertEquals(
        "35b23d41f59dd0f898b930c6b4000549c1c148a944f3188e34281d8b167f18f9",
        RustStableHash.of(branch));
  }

  @Test
  void v11NestedParams() {
    ConfigValue z =
        ConfigValue.ofMap(
            Map.of(
                "b", ConfigValue.of(1),
                "a",
                    ConfigValue.ofList(
                        ConfigValue.of(3), ConfigValue.of("x"), ConfigValue.of(true), ConfigValue.NULL)));
    RustStableHash.Builder b = RustStableHash.builder();
    b.addNode("n", ModelConfig.builder("m", "1.0.0").param("z", z).build());
    assertEquals("e3cd07274a63b142592532a0fdf377c3e6fc97ad301277741bbaf412dd079931", b.hash());
  }

  @Test
  void rustDefectCollisionIsReproduced() {
    // The Rust stream has no framing: one node whose name swallows the next node's bytes hashes
    // exactly like two nodes. The compatible hash must reproduce that defect.
    ModelConfig cfg = ModelConfig.of("c", "1.0.0");
    String json = "{\"name\":\"c\",\"version\":\"1.0.0\",\"params\":{}}";
    RustStableHash.Builder two = RustStableHash.builder();
    two.addNode("a", cfg);
    two.addNode("b", cfg);
    RustStableHash.Builder one = RustStableHash.builder();
    one.addNode("a" + json + "\u0002\0\0\0\0\0\0\0" + "b", cfg);
    assertEquals(two.hash(), one.hash());
  }

  @Test
  void insertionOrderMattersForRust() {
    RustStableHash.Builder ab = RustStableHash.builder();
    ab.addNode("a", ModelConfig.of("x", "1.0.0"));
    ab.addNode("b", ModelConfig.of("x", "1.0.0"));
    RustStableHash.Builder ba = RustStableHash.builder();
    ba.addNode("b", ModelConfig.of("x", "1.0.0"));
    ba.addNode("a", ModelConfig.of("x", "1.0.0"));
    assertNotEquals(ab.hash(), ba.hash());
  }
}
