package dev.aphelion.tritter.accel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.backend.NullBackend;
import dev.aphelion.core.error.BuildException;
import dev.aphelion.core.error.ValidationException;
import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.pipeline.BuildContext;
import dev.aphelion.core.pipeline.BuildPipeline;
import dev.aphelion.core.pipeline.PipelineResult;
import dev.aphelion.core.trace.InMemoryTraceSink;
import dev.aphelion.core.trace.TraceEvent;
import dev.aphelion.tritter.compress.GradientCompressor;
import dev.aphelion.tritter.compress.GradientCompressorTest;
import java.util.List;
import org.junit.jupiter.api.Test;

class GradientCompressionHookTest {

  static BuildGraph graph() {
    return BuildGraph.builder().addNode("fc1", "linear").addNode("fc2", "linear").addEdge("fc1", "fc2").build();
  }

  @Test
  void publishesAFactoryAndTracesSettingsAndTotals() {
    GradientCompressionHook hook = GradientCompressionHook.of(1 / 32.0, 42);
    BuildPipeline p = BuildPipeline.standard().toBuilder()
        .addStageBefore("hashing", AccelerationStage.training(1 / 32.0, 42, true))
        .hook(hook)
        .build();
    BuildContext ctx = BuildContext.of(new NullBackend());
    PipelineResult result = p.execute(ctx, graph());
    assertSame(hook.config(), ctx.require(GradientCompressionHook.CONFIG));
    GradientCompressionHook.CompressorFactory f = ctx.require(GradientCompressionHook.COMPRESSORS);
    List<GradientCompressor> workers = f.forWorkers(5000, 3);
    assertEquals(3, workers.size());
    for (GradientCompressor c : workers) {
      c.compress(GradientCompressorTest.heavyTailed(5000, 1));
    }
    assertEquals(3, f.totals().steps());
    assertTrue(f.totals().compressionFactor() > 30);
    assertTrue(result.trace().stream().map(TraceEvent::message).anyMatch(m -> m.contains("gradient compression: ratio 0.0313 (32.0x)")),
        result.trace().toString());
    // a second run over the same hook reports the totals of what the first run's loop compressed
    InMemoryTraceSink sink = new InMemoryTraceSink(1000);
    p.execute(BuildContext.builder(new NullBackend()).traceSink(sink).build(), graph());
    assertTrue(sink.events().stream().map(TraceEvent::message).anyMatch(m -> m.contains("3 gradients")), sink.events().toString());
  }

  @Test
  void rejectsAGraphWithOtherCompressionSettings() {
    BuildPipeline p = BuildPipeline.standard().toBuilder()
        .addStageBefore("hashing", AccelerationStage.training(0.1, 42, true))
        .hook(GradientCompressionHook.of(0.01, 42))
        .build();
    BuildException e = assertThrows(BuildException.class, () -> p.execute(BuildContext.of(new NullBackend()), graph()));
    assertInstanceOf(ValidationException.class, e.getCause());
    assertTrue(e.getCause().getMessage().contains("tritter.compression_ratio"), e.getCause().getMessage());
    BuildPipeline seed = BuildPipeline.standard().toBuilder()
        .addStageBefore("hashing", AccelerationStage.training(0.01, 7, true))
        .hook(GradientCompressionHook.of(0.01, 42))
        .build();
    BuildException s = assertThrows(BuildException.class, () -> seed.execute(BuildContext.of(new NullBackend()), graph()));
    assertTrue(s.getCause().getMessage().contains("tritter.seed"), s.getCause().getMessage());
  }
}
