package dev.aphelion.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ErrorCode;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class ModelConfigTest {
  static ModelConfig sample() {
    return ModelConfig.builder("m", "1.2.3")
        .param("n", 42)
        .param("x", 0.5)
        .param("flag", true)
        .param("act", "gelu")
        .param("list", ConfigValue.ofList(ConfigValue.of(1), ConfigValue.of("two")))
        .param("map", ConfigValue.ofMap(Map.of("k", ConfigValue.of(1.5))))
        .build();
  }

  @Test
  void typedGetters() {
    ModelConfig c = sample();
    assertEquals(42, c.getLong("n"));
    assertEquals(0.5, c.getDouble("x"));
    assertEquals(42.0, c.getDouble("n"), "exact longs widen to double");
    assertTrue(c.getBoolean("flag"));
    assertEquals("gelu", c.getString("act"));
    assertEquals(List.of(ConfigValue.of(1), ConfigValue.of("two")), c.getList("list"));
    assertEquals(ConfigValue.of(1.5), c.getMap("map").get("k"));
    assertEquals(7, c.getLongOrDefault("absent", 7));
    assertEquals(42, c.getLongOrDefault("n", 7));
    assertEquals(2.5, c.getDoubleOrDefault("absent", 2.5));
    assertEquals(false, c.getBooleanOrDefault("absent", false));
    assertEquals("d", c.getStringOrDefault("absent", "d"));
    assertEquals(List.of(), c.getListOrDefault("absent", List.of()));
    assertEquals(new TreeMap<>(), c.getMapOrDefault("absent", new TreeMap<>()));
    assertEquals(List.of("act", "flag", "list", "map", "n", "x"), List.copyOf(c.params().keySet()));
  }

  @Test
  void wrongTypeNamesKeyAndTypes() {
    ModelConfig c = sample();
    ConfigException e = assertThrows(ConfigException.class, () -> c.getLong("x"));
    assertEquals(ErrorCode.INVALID_CONFIG, e.code());
    assertTrue(e.getMessage().contains("param 'x' has type double"), e.getMessage());
    assertTrue(e.getMessage().contains("expected long"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> c.getString("n"));
    assertTrue(e.getMessage().contains("param 'n' has type long"), e.getMessage());
    assertTrue(e.getMessage().contains("expected string"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> c.getBoolean("list"));
    assertTrue(e.getMessage().contains("has type list"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> c.getMap("act"));
    assertTrue(e.getMessage().contains("expected map"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> c.getLongOrDefault("x", 1));
    assertTrue(e.getMessage().contains("param 'x'"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> c.getLong("missing"));
    assertTrue(e.getMessage().contains("missing param 'missing' (expected long)"), e.getMessage());
    ModelConfig big = ModelConfig.builder("b", "1.0.0").param("v", (1L << 53) + 1).build();
    assertThrows(ConfigException.class, () -> big.getDouble("v"));
  }

  @Test
  void nanAndInfinityRejected() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> ModelConfig.builder("m", "1.0.0").param("lr", Double.NaN));
    assertTrue(e.getMessage().contains("'lr'"), e.getMessage());
    assertTrue(e.getMessage().contains("NaN"), e.getMessage());
    assertThrows(ConfigException.class, () -> ConfigValue.of(Double.NEGATIVE_INFINITY));
    assertThrows(ConfigException.class, () -> ConfigValue.from(List.of(1.0, Float.NaN)));
  }

  @Test
  void versions() {
    ModelConfig c = ModelConfig.of("m", "1.0");
    assertEquals(SemanticVersion.of(1, 0, 0), c.version());
    assertEquals("1.0", c.versionText());
    assertNotEquals(ModelConfig.of("m", "1.0.0"), c);
    ConfigException e = assertThrows(ConfigException.class, () -> ModelConfig.of("m", "1.02.0"));
    assertTrue(e.getMessage().contains("leading zero"), e.getMessage());
    assertThrows(ConfigException.class, () -> ModelConfig.of("m", "v1.0.0"));
    assertThrows(ConfigException.class, () -> ModelConfig.of("m", ""));
    assertThrows(ConfigException.class, () -> ModelConfig.of("m", null));
  }

  @Test
  void equalityAndDerivation() {
    ModelConfig c = sample();
    assertEquals(c, c.toBuilder().build());
    assertEquals(c.hashCode(), c.toBuilder().build().hashCode());
    ModelConfig d = c.withParam("n", ConfigValue.of(43));
    assertEquals(43, d.getLong("n"));
    assertEquals(42, c.getLong("n"));
    assertNotEquals(c.withParam("n", ConfigValue.of(42.0)), c, "1 and 1.0 differ");
    assertEquals(c, c.toBuilder().remove("nothing").build());
    assertThrows(UnsupportedOperationException.class, () -> c.params().clear());
  }

  @Test
  void presets() {
    ModelConfig s = ModelConfigs.small();
    assertEquals("small", s.name());
    assertEquals("1.0.0", s.versionText());
    assertEquals(256, s.getLong("hidden_size"));
    assertEquals(2, s.getLong("num_layers"));
    assertEquals(0.1, s.getDouble("dropout"));
    assertEquals("relu", s.getString("activation"));
    assertEquals(512, ModelConfigs.medium().getLong("hidden_size"));
    assertEquals(4, ModelConfigs.medium().getLong("num_layers"));
    assertEquals(0.2, ModelConfigs.medium().getDouble("dropout"));
    assertEquals(1024, ModelConfigs.large().getLong("hidden_size"));
    assertEquals(8, ModelConfigs.large().getLong("num_layers"));
    assertEquals(0.3, ModelConfigs.large().getDouble("dropout"));
    assertEquals(
        "{\"name\":\"small\",\"version\":\"1.0.0\",\"params\":{\"activation\":\"relu\",\"dropout\":0.1,\"hidden_size\":256,\"num_layers\":2}}",
        ConfigJson.toJson(s));
  }

  @Test
  void mapsSortByCodePoint() {
    // U+FF21 sorts before U+1F600 by code point, but after it in UTF-16 (String.compareTo).
    SortedMap<String, ConfigValue> m =
        ((ConfigValue.MapValue)
                ConfigValue.ofMap(
                    Map.of("\ud83d\ude00", ConfigValue.of(1), "\uff21", ConfigValue.of(2), "b", ConfigValue.of(3))))
            .values();
    assertEquals(List.of("b", "\uff21", "\ud83d\ude00"), List.copyOf(m.keySet()));
    assertTrue("\ud83d\ude00".compareTo("\uff21") < 0);
  }

  @Test
  void malformedStringsRejected() {
    assertThrows(ConfigException.class, () -> ConfigValue.of("a\ud800"));
    assertThrows(ConfigException.class, () -> ConfigValue.ofMap(Map.of("\udc00", ConfigValue.NULL)));
    assertThrows(ConfigException.class, () -> ModelConfig.of("\ud800x", "1.0.0"));
    assertThrows(ConfigException.class, () -> ConfigValue.from(new Object()));
  }
}
