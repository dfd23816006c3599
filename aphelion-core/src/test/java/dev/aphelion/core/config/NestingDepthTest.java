package dev.aphelion.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.hash.GraphDigest;
import dev.aphelion.core.hash.RustStableHash;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Regression for StackOverflowError in parsing, writing and hashing deeply nested configs. */
class NestingDepthTest {

  static ConfigValue nested(int depth) {
    ConfigValue v = ConfigValue.of(1);
    for (int i = 0; i < depth; i++) {
      v = i % 2 == 0 ? ConfigValue.ofList(v) : ConfigValue.ofMap(Map.of("k", v));
    }
    return v;
  }

  static String nestedJson(int depth) {
    return "{\"name\":\"n\",\"version\":\"1.0.0\",\"params\":{\"x\":" + "[".repeat(depth) + "1" + "]".repeat(depth) + "}}";
  }

  /** Runs on a thread with a small stack, the way a server's worker pool might. */
  static Throwable onSmallStack(Runnable r) throws InterruptedException {
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread t = new Thread(null, () -> {
      try {
        r.run();
      } catch (Throwable e) {
        failure.set(e);
      }
    }, "small-stack", 256 * 1024);
    t.start();
    t.join();
    return failure.get();
  }

  @Test
  void valuesDeeperThanTheLimitCannotBeBuilt() {
    ConfigValue max = nested(ConfigValue.MAX_DEPTH);
    assertEquals(ConfigValue.MAX_DEPTH, ConfigValue.depth(max));
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigValue.ofList(max));
    assertTrue(e.getMessage().contains("deeper than " + ConfigValue.MAX_DEPTH), e.getMessage());
    assertThrows(ConfigException.class, () -> ConfigValue.ofMap(Map.of("a", max)));
    assertThrows(ConfigException.class, () -> nested(10_000));
  }

  @Test
  void fromRefusesDeepAndSelfContainingJavaObjects() {
    Object deep = 1;
    for (int i = 0; i < 10_000; i++) {
      deep = List.of(deep);
    }
    Object finalDeep = deep;
    assertThrows(ConfigException.class, () -> ConfigValue.from(finalDeep));
    List<Object> self = new ArrayList<>();
    self.add(self);
    assertThrows(ConfigException.class, () -> ConfigValue.from(self));
  }

  /** The deepest buildable config saves, loads, prints and hashes, also on a small stack. */
  @Test
  void deepestConfigRoundTripsAndHashes(@TempDir Path dir) throws Exception {
    ModelConfig c = ModelConfig.builder("deep", "1.0.0").param("x", nested(ConfigValue.MAX_DEPTH - 1)).build();
    assertThrows(ConfigException.class, () -> ModelConfig.builder("deep", "1.0.0").param("x", nested(ConfigValue.MAX_DEPTH)).build());
    Throwable t = onSmallStack(() -> {
      Path f = dir.resolve("deep.json");
      ConfigJson.save(c, f);
      assertEquals(c, ConfigJson.load(f));
      assertEquals(c, ConfigJson.fromJson(ConfigJson.toJson(c)));
      BuildGraph g = BuildGraph.builder().addNode("a", "linear", c).build();
      GraphDigest.of(g);
      RustStableHash.of(g);
    });
    if (t != null) {
      throw new AssertionError(t);
    }
  }

  @Test
  void parserRefusesDeepNestingCleanlyOnASmallStack() throws Exception {
    assertEquals(ConfigValue.MAX_DEPTH - 1, ConfigValue.depth(ConfigJson.fromJson(nestedJson(ConfigValue.MAX_DEPTH - 1)).params().get("x")));
    assertEquals(ConfigValue.MAX_DEPTH, ConfigValue.depth(ConfigJson.valueFromJson("[".repeat(ConfigValue.MAX_DEPTH) + "]".repeat(ConfigValue.MAX_DEPTH))));
    for (int depth : new int[] {ConfigValue.MAX_DEPTH, 999, 100_000}) {
      Throwable t = onSmallStack(() -> ConfigJson.fromJson(nestedJson(depth)));
      assertTrue(t instanceof SerializationException && t.getMessage().contains("deeper than"), depth + ": " + t);
    }
    Throwable t = onSmallStack(() -> ConfigJson.valueFromJson("{\"a\":".repeat(5000) + "1" + "}".repeat(5000)));
    assertTrue(t instanceof SerializationException, String.valueOf(t));
  }
}
