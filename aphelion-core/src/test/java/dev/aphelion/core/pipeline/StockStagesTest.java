package dev.aphelion.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.backend.NullBackend;
import dev.aphelion.core.config.ModelConfig;
import dev.aphelion.core.config.ModelConfigs;
import dev.aphelion.core.error.BuildException;
import dev.aphelion.core.error.ValidationException;
import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.hash.GraphDigest;
import dev.aphelion.core.hash.RustStableHash;
import dev.aphelion.core.trace.InMemoryTraceSink;
import dev.aphelion.core.trace.TraceEvent;
import java.util.List;
import org.junit.jupiter.api.Test;

class StockStagesTest {

  @Test
  void validGraphPassesStandardValidationUnchanged() {
    BuildGraph g = BuildPipelineTest.chain();
    BuildContext ctx = BuildContext.builder(new NullBackend()).config(ModelConfigs.small()).build();
    assertSame(g, ValidationStage.standard().execute(ctx, g));
  }

  @Test
  void validationReportsEveryProblemAtOnce() {
    ModelConfig badNode =
        ModelConfig.builder("block", "1.0.0").param("dropout", 1.5).param("activation", "swish").build();
    BuildGraph g =
        BuildGraph.builder()
            .addNode("a", "linear", badNode)
            .addNode("b", "relu")
            .addNode("lonely", "linear")
            .addEdge("a", "b")
            .build();
    ModelConfig badModel = ModelConfig.builder("model", "1.0.0").param("hidden_size", 0L).build();
    BuildContext ctx = BuildContext.builder(new NullBackend()).config(badModel).build();
    ValidationException e =
        assertThrows(ValidationException.class, () -> ValidationStage.standard().execute(ctx, g));
    String m = e.getMessage();
    assertTrue(m.contains("with 4 problem(s)"), m);
    assertTrue(m.contains("model config 'model': param 'hidden_size' = 0"), m);
    assertTrue(m.contains("node 'a' config 'block': param 'dropout'"), m);
    assertTrue(m.contains("node 'a' config 'block': param 'activation' = 'swish'"), m);
    assertTrue(m.contains("node 'lonely' (linear) is not connected"), m);
  }

  @Test
  void validationFailureInAPipelineNamesTheStage() {
    BuildGraph empty = BuildGraph.builder().build();
    BuildException e =
        assertThrows(BuildException.class, () -> BuildPipeline.standard().execute(new NullBackend(), empty));
    assertEquals("validation", e.stage().orElseThrow());
    assertInstanceOf(ValidationException.class, e.getCause());
    assertTrue(e.getMessage().contains("the graph has no nodes"), e.getMessage());
  }

  @Test
  void structuralValidationIgnoresConfigs() {
    ModelConfig bad = ModelConfig.builder("block", "1.0.0").param("dropout", 7.0).build();
    BuildGraph g = BuildGraph.builder().addNode("only", "linear", bad).build();
    BuildContext ctx = BuildContext.of(new NullBackend());
    assertSame(g, ValidationStage.structural().execute(ctx, g));
    assertThrows(ValidationException.class, () -> ValidationStage.standard().execute(ctx, g));
  }

  @Test
  void customValidatorsAreAdded() {
    GraphValidator noSoftmax =
        g -> g.nodes().stream().filter(n -> n.opType().equals("softmax")).map(n -> "softmax at " + n.id()).toList();
    BuildGraph g = BuildGraph.builder().addNode("s", "softmax").build();
    ValidationStage stage = ValidationStage.structural().with(noSoftmax);
    assertEquals(3, stage.validators().size());
    ValidationException e =
        assertThrows(ValidationException.class, () -> stage.execute(BuildContext.of(new NullBackend()), g));
    assertTrue(e.getMessage().contains("softmax at s"), e.getMessage());
  }

  @Test
  void hashingStoresDigestInContextAndTrace() {
    BuildGraph g = BuildPipelineTest.chain();
    InMemoryTraceSink sink = new InMemoryTraceSink(100);
    BuildContext ctx = BuildContext.builder(new NullBackend()).traceSink(sink).build();
    assertSame(g, new HashingStage(true).execute(ctx, g));
    GraphDigest d = GraphDigest.of(g);
    assertEquals(d, ctx.require(HashingStage.DIGEST));
    assertEquals(RustStableHash.of(g), ctx.require(HashingStage.RUST_HASH));
    TraceEvent ev = sink.events().getLast();
    assertEquals(d.hex(), ev.attribute("digest"));
    assertEquals(RustStableHash.of(g), ev.attribute("rust_stable_hash"));
    assertEquals("3", ev.attribute("nodes"));
    assertSame(ctx.require(HashingStage.DIGEST), HashingStage.digestOf(ctx, g), "the pipeline reuses the stage's digest");
    BuildGraph other = BuildGraph.builder().addNode("x", "relu").build();
    assertEquals(GraphDigest.of(other), HashingStage.digestOf(ctx, other));
  }

  @Test
  void hashingWithoutRustHashLeavesItOut() {
    BuildContext ctx = BuildContext.of(new NullBackend());
    new HashingStage().execute(ctx, BuildPipelineTest.chain());
    assertTrue(ctx.get(HashingStage.RUST_HASH).isEmpty());
    assertEquals(List.of(HashingStage.DIGEST.name(), HashingStage.HASHED.name()),
        ctx.keys().stream().map(ContextKey::name).sorted().toList());
  }
}
