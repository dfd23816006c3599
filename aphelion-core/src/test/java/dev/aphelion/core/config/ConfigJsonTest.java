package dev.aphelion.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.config.ConfigValue.DoubleValue;
import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.error.SerializationException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigJsonTest {
  static ModelConfig everything() {
    return ModelConfig.builder("all \"types\"", "2.0.0-rc.1+b7")
        .param("long", Long.MIN_VALUE)
        .param("max", Long.MAX_VALUE)
        .param("one", 1)
        .param("one_d", 1.0)
        .param("neg_zero", -0.0)
        .param("tiny", Double.MIN_VALUE)
        .param("huge", Double.MAX_VALUE)
        .param("tenth", 0.1)
        .param("e16", 1e16)
        .param("flag", false)
        .param("text", "tab\t nl\n quote\" back\\ bell\u0007 del\u007f \u00e9 \ud83d\ude00 \u2028")
        .param("empty_list", ConfigValue.ofList())
        .param("empty_map", ConfigValue.ofMap(Map.of()))
        .param(
            "nested",
            ConfigValue.from(Map.of("z", List.of(1, 2.5, "s", true), "a", Map.of("x", List.of()))))
        .param("nothing", ConfigValue.NULL)
        .build();
  }

  @Test
  void compactAndPrettyRoundTripExactly() {
    ModelConfig c = everything();
    String compact = ConfigJson.toJson(c);
    String pretty = ConfigJson.toPrettyJson(c);
    assertEquals(c, ConfigJson.fromJson(compact));
    assertEquals(c, ConfigJson.fromJson(pretty));
    assertEquals(compact, ConfigJson.toJson(ConfigJson.fromJson(pretty)));
    ModelConfig back = ConfigJson.fromJson(compact);
    assertEquals(
        Double.doubleToRawLongBits(-0.0),
        Double.doubleToRawLongBits(((DoubleValue) back.get("neg_zero").orElseThrow()).value()));
    assertEquals(ConfigValue.of(1), back.get("one").orElseThrow());
    assertEquals(ConfigValue.of(1.0), back.get("one_d").orElseThrow());
  }

  @Test
  void compactFormIsSerdeJson() {
    ModelConfig c =
        ModelConfig.builder("m", "1.0.0")
            .param("s", "a\"b\\c\n\u0001\u001f\u007f\u00e9")
            .param("d", 1e-7)
            .param("i", -3)
            .param("l", ConfigValue.ofList(ConfigValue.NULL, ConfigValue.of(true)))
            .build();
    assertEquals(
        "{\"name\":\"m\",\"version\":\"1.0.0\",\"params\":{\"d\":1e-7,\"i\":-3,\"l\":[null,true],"
            + "\"s\":\"a\\\"b\\\\c\\n\\u0001\\u001f\u007f\u00e9\"}}",
        ConfigJson.toJson(c));
    assertEquals(
        """
        {
          "name": "m",
          "version": "1.0",
          "params": {
            "a": [
              1,
              {}
            ],
            "b": {
              "c": []
            }
          }
        }""",
        ConfigJson.toPrettyJson(
            ModelConfig.builder("m", "1.0")
                .param("a", ConfigValue.from(List.of(1, Map.of())))
                .param("b", ConfigValue.from(Map.of("c", List.of())))
                .build()));
  }

  @Test
  void randomDoublesRoundTripBitExact() {
    SplittableRandom random = new SplittableRandom(11);
    ModelConfig.Builder b = ModelConfig.builder("r", "1.0.0");
    for (int i = 0; i < 2000; i++) {
      double d = Double.longBitsToDouble(random.nextLong());
      if (Double.isFinite(d)) {
        b.param("k" + i, d);
      }
    }
    ModelConfig c = b.build();
    assertEquals(c, ConfigJson.fromJson(ConfigJson.toJson(c)));
  }

  /** Regression: save wrote in place, so a crash left a truncated file; now it renames a whole one. */
  @Test
  void saveReplacesTheFileAtomically(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("config.json");
    ModelConfig a = ModelConfig.builder("a", "1.0.0").build();
    ModelConfig b = ModelConfig.builder("b", "1.0.0").build();
    ConfigJson.save(a, file);
    Path link = dir.resolve("previous.json");
    java.nio.file.Files.createLink(link, file);
    ConfigJson.save(b, file);
    assertEquals(b, ConfigJson.load(file));
    assertEquals(a, ConfigJson.load(link), "the old file was overwritten in place");
    SerializationException e = assertThrows(SerializationException.class, () -> ConfigJson.save(a, dir.resolve("missing/c.json")));
    assertTrue(e.getMessage().contains("NoSuchFileException"), e.getMessage());
  }

  @Test
  void fileRoundTrip(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("config.json");
    ModelConfig c = everything();
    ConfigJson.save(c, file);
    assertTrue(Files.readString(file).endsWith("}\n"));
    assertEquals(c, ConfigJson.load(file));
    SerializationException e =
        assertThrows(SerializationException.class, () -> ConfigJson.load(dir.resolve("missing.json")));
    assertTrue(e.getMessage().contains("missing.json"), e.getMessage());
  }

  @Test
  void intAndFloatAreDistinctOnLoad() {
    ModelConfig c = ConfigJson.fromJson("{\"name\":\"m\",\"version\":\"1.0.0\",\"params\":{\"a\":1,\"b\":1.0,\"c\":1e0,\"d\":-0}}");
    assertEquals(ConfigValue.of(1), c.get("a").orElseThrow());
    assertEquals(ConfigValue.of(1.0), c.get("b").orElseThrow());
    assertEquals(ConfigValue.of(1.0), c.get("c").orElseThrow());
    assertEquals(ConfigValue.of(0), c.get("d").orElseThrow());
    assertNotEquals(c.get("a"), c.get("b"));
    assertEquals(ModelConfig.of("m", "1.0.0"), ConfigJson.fromJson("{\"version\":\"1.0.0\",\"name\":\"m\"}"));
  }

  @Test
  void malformedJsonIsASerializationException() {
    for (String bad :
        List.of(
            "",
            "{",
            "{\"name\":\"m\",\"version\":\"1.0.0\"",
            "{\"name\":\"m\",\"version\":\"1.0.0\"} trailing",
            "{\"name\":\"m\",\"version\":\"1.0.0\"}{}",
            "[1,2]",
            "{\"name\":\"m\",\"name\":\"n\",\"version\":\"1.0.0\"}",
            "{\"name\":\"m\",\"version\":\"1.0.0\",\"params\":{\"a\":1,\"a\":2}}",
            "{\"name\":\"m\",\"version\":\"1.0.0\",\"extra\":1}",
            "{\"name\":\"m\"}",
            "{\"version\":\"1.0.0\"}",
            "{\"name\":1,\"version\":\"1.0.0\"}",
            "{\"name\":\"m\",\"version\":\"1.0.0\",\"params\":[]}",
            "{\"name\":\"m\",\"version\":\"1.0.0\",\"params\":{\"a\":99999999999999999999}}",
            "{\"name\":\"m\",\"version\":\"1.0.0\",\"params\":{\"a\":1e400}}",
            "{\"name\":\"m\",\"version\":\"1.0.0\",\"params\":{\"a\":NaN}}",
            "{\"name\":\"m\",\"version\":\"1.0.0\",\"params\":{\"a\":[1,}}",
            "{\"name\":\"m\",\"version\":\"1.0.0\",\"params\":{\"a\":\"\\ud800\"}}",
            "{'name':'m'}")) {
      SerializationException e =
          assertThrows(SerializationException.class, () -> ConfigJson.fromJson(bad), bad);
      assertEquals(ErrorCode.SERIALIZATION, e.code());
    }
    SerializationException e =
        assertThrows(
            SerializationException.class,
            () -> ConfigJson.fromJson("{\"name\":\"m\",\"version\":\"1.0.0\",\"params\":{\"z\":{\"q\":[1,99999999999999999999]}}}"));
    assertTrue(e.getMessage().contains("params.z.q[1]"), e.getMessage());
  }

  @Test
  void invalidValuesInValidJsonAreConfigExceptions() {
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigJson.fromJson("{\"name\":\"m\",\"version\":\"1.0.x\"}"));
    assertTrue(e.getMessage().contains("1.0.x"), e.getMessage());
  }

  @Test
  void singleValues() {
    assertEquals(ConfigValue.of(2.5), ConfigJson.valueFromJson("2.5"));
    assertEquals("[1,1.0,\"x\",null]", ConfigJson.toJson(ConfigJson.valueFromJson("[1, 1.0, \"x\", null]")));
    assertThrows(SerializationException.class, () -> ConfigJson.valueFromJson("1 2"));
  }
}
