package dev.aphelion.tritter.accel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.backend.NullBackend;
import dev.aphelion.core.config.ConfigValue;
import dev.aphelion.core.config.ModelConfig;
import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.hash.GraphDigest;
import dev.aphelion.core.pipeline.BuildContext;
import dev.aphelion.tritter.model.KVCache;
import org.junit.jupiter.api.Test;

class AccelerationStageTest {

  static BuildGraph mlp() {
    return BuildGraph.builder()
        .addNode("fc1", "linear", ModelConfig.builder("fc1", "1.0.0").param("in_features", 8).param("out_features", 16).build())
        .addNode("act", "relu")
        .addNode("fc2", "linear", ModelConfig.builder("fc2", "1.0.0").param("in_features", 16).param("out_features", 4).build())
        .addEdge("fc1", "act")
        .addEdge("act", "fc2")
        .build();
  }

  @Test
  void inferenceConvertsLinearNodesAndRecordsSettings() {
    BuildContext ctx = BuildContext.of(new NullBackend());
    AccelerationStage stage = AccelerationStage.inference(8).withKvCache(256, KVCache.EvictionPolicy.SLIDING_WINDOW, KVCache.Storage.INT8);
    assertEquals("tritter-acceleration", stage.name());
    BuildGraph out = stage.execute(ctx, mlp());
    assertEquals("ternary_linear", out.node("fc1").opType());
    assertEquals("ternary_linear", out.node("fc2").opType());
    assertEquals("relu", out.node("act").opType());
    assertEquals(mlp().node("fc1").config(), out.node("fc1").config());
    assertEquals(new ConfigValue.StringValue("int8"), out.node("fc1").attribute(AccelerationStage.ATTR_ACTIVATIONS).orElseThrow());
    assertEquals(mlp().edges().size(), out.edges().size());
    assertEquals(new ConfigValue.LongValue(8), out.attribute(AccelerationStage.ATTR_BATCH_SIZE).orElseThrow());
    assertEquals(new ConfigValue.LongValue(256), out.attribute(AccelerationStage.ATTR_KV_CAPACITY).orElseThrow());
    assertEquals(new ConfigValue.StringValue("SLIDING_WINDOW"), out.attribute(AccelerationStage.ATTR_KV_POLICY).orElseThrow());
    assertEquals(stage.mode(), ctx.require(AccelerationStage.MODE_KEY));
  }

  @Test
  void digestChangesWithBatchSizeAndCacheSettings() {
    BuildContext ctx = BuildContext.of(new NullBackend());
    GraphDigest a = GraphDigest.of(AccelerationStage.inference(8).execute(ctx, mlp()));
    GraphDigest a2 = GraphDigest.of(AccelerationStage.inference(8).execute(ctx, mlp()));
    GraphDigest b = GraphDigest.of(AccelerationStage.inference(16).execute(ctx, mlp()));
    GraphDigest c = GraphDigest.of(AccelerationStage.inference(8).withKvCache(128, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32).execute(ctx, mlp()));
    GraphDigest d = GraphDigest.of(AccelerationStage.inference(8).withKvCache(256, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32).execute(ctx, mlp()));
    GraphDigest e = GraphDigest.of(AccelerationStage.inference(8).withKvCache(256, KVCache.EvictionPolicy.ERROR, KVCache.Storage.INT8).execute(ctx, mlp()));
    assertEquals(a, a2);
    assertNotEquals(a, b);
    assertNotEquals(a, c);
    assertNotEquals(c, d);
    assertNotEquals(d, e);
    assertNotEquals(GraphDigest.of(mlp()), a);
  }

  @Test
  void trainingRecordsCompressionSeedAndTrainer() {
    BuildContext ctx = BuildContext.of(new NullBackend());
    BuildGraph out = AccelerationStage.training(0.1).execute(ctx, mlp());
    assertEquals(new ConfigValue.DoubleValue(0.1), out.attribute(AccelerationStage.ATTR_COMPRESSION_RATIO).orElseThrow());
    assertEquals(new ConfigValue.LongValue(42), out.attribute(AccelerationStage.ATTR_SEED).orElseThrow());
    assertEquals(new ConfigValue.BooleanValue(true), out.attribute(AccelerationStage.ATTR_DETERMINISTIC_TRAINER).orElseThrow());
    assertEquals("linear", out.node("fc1").opType());
    assertTrue(out.node("fc1").attribute(AccelerationStage.ATTR_NODE_COMPRESSION).isPresent());
    assertTrue(out.node("act").attribute(AccelerationStage.ATTR_NODE_COMPRESSION).isEmpty());
    assertNotEquals(GraphDigest.of(out), GraphDigest.of(AccelerationStage.training(0.1, 7, true).execute(ctx, mlp())));
    assertNotEquals(GraphDigest.of(out), GraphDigest.of(AccelerationStage.training(0.1, 42, false).execute(ctx, mlp())));
    assertNotEquals(GraphDigest.of(out), GraphDigest.of(AccelerationStage.training(0.05).execute(ctx, mlp())));
  }

  @Test
  void invalidSettingsAreRejected() {
    assertThrows(ConfigException.class, () -> AccelerationStage.training(0));
    assertThrows(ConfigException.class, () -> AccelerationStage.training(1.5));
    assertThrows(ConfigException.class, () -> AccelerationStage.inference(0));
    assertThrows(ConfigException.class, () -> AccelerationStage.training(0.1).withKvCache(8, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32));
    assertThrows(ConfigException.class, () -> AccelerationStage.inference(1).withKvCache(0, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32));
  }
}
