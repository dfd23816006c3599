package dev.aphelion.core.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.config.ConfigJson;
import dev.aphelion.core.config.ConfigValue;
import dev.aphelion.core.config.ModelConfig;
import dev.aphelion.core.config.SerdeJsonFloats;
import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.hash.GraphDigest;
import dev.aphelion.core.hash.RustStableHash;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Config JSON under mutation: every input is either a config that saves, reloads, prints and hashes
 * consistently, or a {@code SerializationException}/{@code ConfigException}.
 */
class ConfigJsonFuzzTest {

  static List<byte[]> seeds() {
    List<String> docs = new ArrayList<>();
    docs.add(ConfigJson.toJson(ModelConfig.builder("transformer", "1.0.0").param("d_model", 512).param("dropout", 0.1)
        .param("big", 1e20).param("tiny", 5e-324).param("neg", -0.0).param("name", "é\u20ac\ud83d\ude00\n\"\\")
        .param("list", ConfigValue.ofList(ConfigValue.of(1), ConfigValue.NULL, ConfigValue.of(true), ConfigValue.ofMap(Map.of("k", ConfigValue.of("v")))))
        .build()));
    docs.add(ConfigJson.toPrettyJson(ModelConfig.builder("n", "2.1.0-rc.1+build").param("x", ConfigValue.ofMap(Map.of("a", ConfigValue.ofList()))).build()));
    docs.add("{\"name\":\"a\",\"version\":\"1.0\"}");
    docs.add("{\"name\":\"a\",\"version\":\"1.0.0\",\"params\":{\"n\":" + "[".repeat(99) + "9223372036854775807" + "]".repeat(99) + "}}");
    docs.add("{\"name\":\"a\",\"version\":\"1.0.0\",\"params\":{\"e\":1e308,\"f\":-1.7976931348623157e+308,\"u\":\"\\u0000\\ud83d\\ude00\"}}");
    return docs.stream().map(s -> s.getBytes(StandardCharsets.UTF_8)).toList();
  }

  @Test
  void configJsonIsParsedOrRejectedCleanly() {
    Fuzz.Stats s = Fuzz.run("config-json", seeds(), n -> 32L * 1024 * 1024 + 200L * n, input -> {
      ModelConfig c = ConfigJson.fromJson(new String(input, StandardCharsets.UTF_8));
      // Whatever parses is a config that every writer and hash handles, and that reads back equal.
      for (SerdeJsonFloats f : SerdeJsonFloats.values()) {
        assertEquals(c, ConfigJson.fromJson(ConfigJson.toJson(c, f)));
      }
      assertEquals(c, ConfigJson.fromJson(ConfigJson.toPrettyJson(c)));
      BuildGraph g = BuildGraph.builder().addNode("n", "op", c).build();
      GraphDigest.of(g);
      RustStableHash.of(g);
    });
    assertTrue(s.accepted() > 0 && s.rejected() > 0, s.toString());
  }

  @Test
  void jsonValuesAreParsedOrRejectedCleanly() {
    List<byte[]> seeds = List.of("[1,2.5,\"x\",null,true,{\"a\":[]}]".getBytes(StandardCharsets.UTF_8),
        "{\"a\":{\"b\":{\"c\":-12345678901234567890}}}".getBytes(StandardCharsets.UTF_8), "\"\\ud800\"".getBytes(StandardCharsets.UTF_8));
    Fuzz.run("config-value-json", seeds, n -> 32L * 1024 * 1024 + 200L * n, input -> {
      ConfigValue v = ConfigJson.valueFromJson(new String(input, StandardCharsets.UTF_8));
      assertEquals(v, ConfigJson.valueFromJson(ConfigJson.toJson(v)));
    });
  }
}
