package dev.aphelion.tritter.accel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.backend.Backend;
import dev.aphelion.core.backend.BackendRegistry;
import dev.aphelion.core.config.ModelConfig;
import dev.aphelion.core.error.BuildException;
import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.pipeline.BuildContext;
import dev.aphelion.core.pipeline.BuildPipeline;
import dev.aphelion.core.pipeline.PipelineResult;
import dev.aphelion.tritter.compress.GradientCompressor;
import dev.aphelion.tritter.compress.TernaryCompressedGradient;
import dev.aphelion.tritter.model.KVCache;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The handoff's {@code test_full_pipeline_with_acceleration}, run for real on the tritter backend. */
class TritterIntegrationTest {

  static BuildGraph createTestGraph() {
    return BuildGraph.builder()
        .addNode("fc1", "linear", ModelConfig.builder("fc1", "1.0.0").param("in_features", 32).param("out_features", 64).param("bias", true).build())
        .addNode("act", "squared_relu")
        .addNode("fc2", "linear", ModelConfig.builder("fc2", "1.0.0").param("in_features", 64).param("out_features", 10).build())
        .addEdge("fc1", "act")
        .addEdge("act", "fc2")
        .build();
  }

  static Map<String, float[]> weights() {
    SplittableRandom r = new SplittableRandom(42);
    Map<String, float[]> w = new HashMap<>();
    for (var e : Map.of("fc1.weight", 64 * 32, "fc1.bias", 64, "fc2.weight", 10 * 64).entrySet()) {
      float[] v = new float[e.getValue()];
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) (r.nextGaussian() * 0.2);
      }
      w.put(e.getKey(), v);
    }
    return w;
  }

  @Test
  void fullPipelineWithAcceleration() {
    BackendRegistry registry = BackendRegistry.load();
    try (Backend backend = registry.open(TritterAccelBackend.NAME)) {
      assertInstanceOf(TritterAccelBackend.class, backend);
      BuildPipeline training = BuildPipeline.builder()
          .stage(AccelerationStage.training(0.1))
          .hook(GradientCompressionHook.of(0.1, 42))
          .build();
      BuildContext ctx = BuildContext.of(backend);
      PipelineResult result = training.execute(ctx, createTestGraph());
      assertEquals(List.of(AccelerationStage.NAME), result.stagesRun());
      assertInstanceOf(AccelerationStage.Training.class, ctx.require(AccelerationStage.MODE_KEY));

      // The hook published per-worker compressors that agree with the stage's settings.
      GradientCompressor compressor = ctx.require(GradientCompressionHook.COMPRESSORS).create(64 * 32);
      float[] gradient = weights().get("fc1.weight");
      TernaryCompressedGradient compressed = compressor.compress(gradient);
      assertEquals(gradient.length, compressor.decompress(compressed).length);

      // The trained graph runs as a model on this backend and gives the expected shapes.
      try (InferenceEngine engine = InferenceEngine.builder().backend(backend).maxBatchSize(4).build()) {
        AcceleratedInference model = AcceleratedInference.fromGraph(result.graph(), weights()).withEngine(engine);
        float[] out = model.forward(new float[9 * 32], 9);
        assertEquals(9 * 10, out.length);
      }

      // Inference: the same graph becomes ternary, with batch and cache settings in its digest.
      BuildPipeline inference = BuildPipeline.builder()
          .stage(AccelerationStage.inference(8).withKvCache(128, KVCache.EvictionPolicy.SLIDING_WINDOW, KVCache.Storage.INT8))
          .build();
      PipelineResult ir = inference.execute(BuildContext.of(backend), createTestGraph());
      assertEquals("ternary_linear", ir.graph().node("fc1").opType());
      assertNotEquals(result.digest(), ir.digest());
      AcceleratedInference ternary = AcceleratedInference.fromGraph(ir.graph(), weights());
      assertEquals(List.of("fc1:ternary_linear", "act:squared_relu", "fc2:ternary_linear"), ternary.opTypes());
      float[] y = ternary.forward(new float[32]);
      assertEquals(10, y.length);
      for (float v : y) {
        assertTrue(Float.isFinite(v));
      }
    }
  }

  @Test
  void hookRejectsAStageWithOtherCompressionSettings() {
    try (Backend backend = BackendRegistry.load().open(TritterAccelBackend.NAME)) {
      BuildPipeline p = BuildPipeline.builder()
          .stage(AccelerationStage.training(0.05, 42, true))
          .hook(GradientCompressionHook.of(0.1, 42))
          .build();
      assertThrows(BuildException.class, () -> p.execute(BuildContext.of(backend), createTestGraph()));
    }
  }
}
