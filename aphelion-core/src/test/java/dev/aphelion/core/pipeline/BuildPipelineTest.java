package dev.aphelion.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.backend.NullBackend;
import dev.aphelion.core.error.BuildException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.hash.GraphDigest;
import dev.aphelion.core.trace.InMemoryTraceSink;
import dev.aphelion.core.trace.Span;
import dev.aphelion.core.trace.TraceEvent;
import dev.aphelion.core.trace.Tracer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class BuildPipelineTest {
  private final List<String> log = Collections.synchronizedList(new ArrayList<>());
  private final AtomicLong nanos = new AtomicLong(1_000_000);
  private final InMemoryTraceSink sink = new InMemoryTraceSink(1000);
  private final BuildContext ctx =
      BuildContext.builder(new NullBackend())
          .tracer(Tracer.builder().sink(sink).traceId("t").nanoTime(nanos::get).build())
          .build();

  static BuildGraph chain() {
    return BuildGraph.builder()
        .addNode("in", "linear")
        .addNode("act", "relu")
        .addNode("out", "linear")
        .addEdge("in", "act")
        .addEdge("act", "out")
        .build();
  }

  /** A stage that logs, advances the fake clock by {@code cost} ns and applies {@code change}. */
  PipelineStage stage(String name, long cost, UnaryOperator<BuildGraph> change) {
    return new PipelineStage() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public BuildGraph execute(BuildContext c, BuildGraph g) {
        log.add("stage:" + name);
        nanos.addAndGet(cost);
        return change.apply(g);
      }
    };
  }

  PipelineStage stage(String name) {
    return stage(name, 10, g -> g);
  }

  PipelineStage failing(String name, RuntimeException e) {
    return stage(
        name,
        5,
        g -> {
          throw e;
        });
  }

  /** A hook that logs every call; {@code failIn} names a method that throws. */
  class Recorder implements PipelineHook {
    final String id;
    final String failIn;

    Recorder(String id, String failIn) {
      this.id = id;
      this.failIn = failIn;
    }

    Recorder(String id) {
      this(id, "");
    }

    void rec(String what) {
      log.add(id + "." + what);
      if (what.startsWith(failIn + (failIn.isEmpty() ? "\0" : ""))) {
        throw new IllegalStateException(id + " fails in " + what);
      }
    }

    @Override
    public String name() {
      return id;
    }

    @Override
    public void beforePipeline(BuildContext c, BuildGraph g) {
      rec("beforePipeline");
    }

    @Override
    public void beforeStage(BuildContext c, String s, BuildGraph g) {
      rec("beforeStage:" + s);
    }

    @Override
    public void afterStage(BuildContext c, String s, BuildGraph g, Duration d) {
      rec("afterStage:" + s);
    }

    @Override
    public void afterPipeline(BuildContext c, PipelineResult r) {
      rec("afterPipeline");
    }

    @Override
    public void onFailure(BuildContext c, String s, Throwable e) {
      rec("onFailure:" + s + ":" + e.getMessage());
    }
  }

  @Test
  void hooksRunInOrderAroundEveryStage() {
    BuildPipeline p =
        BuildPipeline.builder()
            .stage(stage("a"))
            .stage(stage("b"))
            .hook(new Recorder("h1"))
            .hook(new Recorder("h2"))
            .build();
    p.execute(ctx, chain());
    assertEquals(
        List.of(
            "h1.beforePipeline",
            "h2.beforePipeline",
            "h1.beforeStage:a",
            "h2.beforeStage:a",
            "stage:a",
            "h1.afterStage:a",
            "h2.afterStage:a",
            "h1.beforeStage:b",
            "h2.beforeStage:b",
            "stage:b",
            "h1.afterStage:b",
            "h2.afterStage:b",
            "h1.afterPipeline",
            "h2.afterPipeline"),
        log);
  }

  @Test
  void stageFailureIsWrappedWithStageNameAndCauseAndFailureHooksRun() {
    IllegalStateException boom = new IllegalStateException("boom");
    BuildPipeline p =
        BuildPipeline.builder()
            .stage(stage("a"))
            .stage(failing("b", boom))
            .stage(stage("c"))
            .hook(new Recorder("h1"))
            .hook(new Recorder("h2"))
            .build();
    BuildException e = assertThrows(BuildException.class, () -> p.execute(ctx, chain()));
    assertEquals(ErrorCode.BUILD, e.code());
    assertEquals("b", e.stage().orElseThrow());
    assertSame(boom, e.getCause());
    assertTrue(e.getMessage().contains("stage 'b'"), e.getMessage());
    assertTrue(e.getMessage().contains("boom"), e.getMessage());
    assertFalse(log.contains("stage:c"));
    assertFalse(log.contains("h1.afterPipeline"));
    assertFalse(log.contains("h1.afterStage:b"));
    assertEquals(
        List.of("h1.onFailure:b:boom", "h2.onFailure:b:boom"),
        log.stream().filter(s -> s.contains("onFailure")).toList());
    TraceEvent failed =
        sink.events().stream().filter(ev -> ev.message().equals("b failed")).findFirst().orElseThrow();
    assertEquals("error", failed.attribute(Span.STATUS));
    assertTrue(sink.events().stream().anyMatch(ev -> ev.message().equals("pipeline failed")));
  }

  @Test
  void failingFailureHookIsSuppressedNotHiding() {
    IllegalArgumentException boom = new IllegalArgumentException("original");
    BuildPipeline p =
        BuildPipeline.builder()
            .stage(failing("a", boom))
            .hook(new Recorder("bad", "onFailure"))
            .hook(new Recorder("good"))
            .build();
    BuildException e = assertThrows(BuildException.class, () -> p.execute(ctx, chain()));
    assertSame(boom, e.getCause());
    assertEquals(1, e.getSuppressed().length);
    assertTrue(e.getSuppressed()[0].getMessage().startsWith("bad fails in onFailure"));
    assertTrue(log.contains("good.onFailure:a:original"), "later hooks still run: " + log);
  }

  @Test
  void hookFailureBeforeStageNamesStageAndHook() {
    BuildPipeline p =
        BuildPipeline.builder()
            .stage(stage("a"))
            .stage(stage("b"))
            .hook(new Recorder("h", "beforeStage:b"))
            .build();
    BuildException e = assertThrows(BuildException.class, () -> p.execute(ctx, chain()));
    assertEquals("b", e.stage().orElseThrow());
    assertTrue(e.getMessage().contains("hook 'h' failed in beforeStage for stage 'b'"), e.getMessage());
    assertInstanceOf(IllegalStateException.class, e.getCause());
    assertFalse(log.contains("stage:b"));
    assertTrue(log.contains("h.onFailure:b:h fails in beforeStage:b"), log.toString());
  }

  @Test
  void hookFailureBeforePipelineHasNoStage() {
    BuildPipeline p =
        BuildPipeline.builder().stage(stage("a")).hook(new Recorder("h", "beforePipeline")).build();
    BuildException e = assertThrows(BuildException.class, () -> p.execute(ctx, chain()));
    assertTrue(e.stage().isEmpty());
    assertTrue(e.getMessage().contains("hook 'h' failed in beforePipeline"), e.getMessage());
    assertTrue(log.contains("h.onFailure:null:h fails in beforePipeline"), log.toString());
    assertFalse(log.contains("stage:a"));
  }

  @Test
  void nullFromAStageIsAFailure() {
    BuildPipeline p = BuildPipeline.builder().stage(stage("nil", 1, g -> null)).build();
    BuildException e = assertThrows(BuildException.class, () -> p.execute(ctx, chain()));
    assertEquals("nil", e.stage().orElseThrow());
    assertTrue(e.getMessage().contains("returned null"), e.getMessage());
  }

  @Test
  void skippedStagesDoNotRunAndAreReported() {
    BuildPipeline p =
        BuildPipeline.builder()
            .stage(stage("a"))
            .stage(stage("b"))
            .stage(stage("c"))
            .hook(new Recorder("h"))
            .skip("b")
            .build();
    PipelineResult r = p.execute(ctx, chain());
    assertEquals(List.of("b"), r.skipped());
    assertEquals(List.of("a", "c"), r.stagesRun());
    assertFalse(log.contains("stage:b"));
    assertFalse(log.stream().anyMatch(s -> s.endsWith(":b")), log.toString());
    assertTrue(r.trace().stream().anyMatch(ev -> ev.message().equals("b skipped")));
    assertTrue(r.timing("b").isEmpty());
  }

  @Test
  void unknownSkipNameIsAnError() {
    BuildPipeline.Builder b = BuildPipeline.builder().stage(stage("a")).stage(stage("b")).skip("x", "a");
    BuildException e = assertThrows(BuildException.class, b::build);
    assertTrue(e.getMessage().contains("cannot skip unknown stage(s) [x]"), e.getMessage());
    assertTrue(e.getMessage().contains("stages: [a, b]"), e.getMessage());
  }

  @Test
  void duplicateStageNamesAreAnError() {
    BuildException e =
        assertThrows(
            BuildException.class, () -> BuildPipeline.builder().stage(stage("a")).stage(stage("a")).build());
    assertTrue(e.getMessage().contains("two stages are named 'a'"), e.getMessage());
  }

  @Test
  void timingsArePresentInOrderAndMeasured() {
    BuildPipeline p =
        BuildPipeline.builder()
            .stage(stage("slow", 7_000, g -> g))
            .stage(stage("fast", 300, g -> g))
            .build();
    PipelineResult r = p.execute(ctx, chain());
    assertEquals(
        List.of(new StageTiming("slow", Duration.ofNanos(7_000)), new StageTiming("fast", Duration.ofNanos(300))),
        r.timings());
    assertEquals(Duration.ofNanos(7_300), r.totalStageTime());
    TraceEvent slowEnd =
        r.trace().stream().filter(ev -> ev.message().equals("slow finished")).findFirst().orElseThrow();
    assertEquals("7000", slowEnd.attribute(Span.DURATION_NS));
  }

  @Test
  void afterStageSeesTheStageDuration() {
    List<Duration> seen = new ArrayList<>();
    BuildPipeline p =
        BuildPipeline.builder()
            .stage(stage("a", 4_242, g -> g))
            .hook(
                new PipelineHook() {
                  @Override
                  public String name() {
                    return "d";
                  }

                  @Override
                  public void afterStage(BuildContext c, String s, BuildGraph g, Duration d) {
                    seen.add(d);
                  }
                })
            .build();
    p.execute(ctx, chain());
    assertEquals(List.of(Duration.ofNanos(4_242)), seen);
  }

  @Test
  void resultHoldsTheFinalGraphItsDigestAndTheTrace() {
    BuildGraph in = chain();
    PipelineStage grow =
        stage("grow", 1, g -> g.toBuilder().addNode("head", "softmax").addEdge("out", "head").build());
    PipelineResult r = BuildPipeline.builder().stage(grow).build().execute(ctx, in);
    assertEquals(4, r.graph().nodeCount());
    assertEquals(GraphDigest.of(r.graph()), r.digest());
    assertNotEquals(GraphDigest.of(in), r.digest());
    assertTrue(r.trace().stream().allMatch(ev -> "t".equals(ev.traceId())));
    assertEquals("pipeline started", r.trace().getFirst().message());
    // the context's own sink saw everything, including the pipeline's end
    assertEquals("pipeline finished", sink.events().getLast().message());
    assertEquals(0, r.traceDropped());
  }

  @Test
  void eventsRecordedByAStageCarryItsSpan() {
    PipelineStage talker =
        new PipelineStage() {
          @Override
          public String name() {
            return "talker";
          }

          @Override
          public BuildGraph execute(BuildContext c, BuildGraph g) {
            c.tracer().info("said inside");
            return g;
          }
        };
    PipelineResult r = BuildPipeline.builder().stage(talker).build().execute(ctx, chain());
    TraceEvent start =
        r.trace().stream().filter(ev -> ev.message().equals("talker started")).findFirst().orElseThrow();
    TraceEvent said =
        r.trace().stream().filter(ev -> ev.message().equals("said inside")).findFirst().orElseThrow();
    assertEquals(start.spanId(), said.spanId());
    assertEquals(r.trace().getFirst().spanId(), start.attribute(Span.PARENT));
  }

  @Test
  void eventsRecordedByHooksCarryThePipelineSpan() {
    PipelineHook talker =
        new PipelineHook() {
          @Override
          public String name() {
            return "talker";
          }

          @Override
          public void beforePipeline(BuildContext c, BuildGraph g) {
            c.tracer().info("hook says");
          }
        };
    PipelineResult r = BuildPipeline.builder().stage(stage("a")).hook(talker).build().execute(ctx, chain());
    TraceEvent pipelineStart = r.trace().getFirst();
    assertEquals("pipeline started", pipelineStart.message());
    assertEquals("hook says", r.trace().get(1).message());
    assertEquals(pipelineStart.spanId(), r.trace().get(1).spanId());
  }

  @Test
  void boundedRunTraceCountsDrops() {
    BuildPipeline p =
        BuildPipeline.builder().stage(stage("a")).stage(stage("b")).traceCapacity(2).build();
    PipelineResult r = p.execute(ctx, chain());
    assertEquals(2, r.trace().size());
    assertTrue(r.traceDropped() > 0);
  }

  @Test
  void hooksAndStagesShareTypedAttributes() {
    ContextKey<StringBuilder> key = ContextKey.of("test.buffer", StringBuilder.class);
    PipelineHook publisher =
        new PipelineHook() {
          @Override
          public String name() {
            return "publisher";
          }

          @Override
          public void beforePipeline(BuildContext c, BuildGraph g) {
            c.put(key, new StringBuilder("published"));
          }
        };
    PipelineStage consumer =
        new PipelineStage() {
          @Override
          public String name() {
            return "consumer";
          }

          @Override
          public BuildGraph execute(BuildContext c, BuildGraph g) {
            c.require(key).append("+consumed");
            return g;
          }
        };
    BuildPipeline.builder().stage(consumer).hook(publisher).build().execute(ctx, chain());
    assertEquals("published+consumed", ctx.require(key).toString(), "the caller's context shares the store");

    BuildPipeline noPublisher = BuildPipeline.builder().stage(consumer).build();
    BuildContext empty = BuildContext.of(new NullBackend());
    BuildException e = assertThrows(BuildException.class, () -> noPublisher.execute(empty, chain()));
    assertEquals("consumer", e.stage().orElseThrow());
    assertTrue(e.getMessage().contains("no value for context key test.buffer (StringBuilder)"), e.getMessage());
  }

  @Test
  void builderEditsStages() {
    BuildPipeline p =
        BuildPipeline.standard().toBuilder()
            .addStageBefore(HashingStage.NAME, stage("accel"))
            .addStageAfter(HashingStage.NAME, stage("report"))
            .build();
    assertEquals(List.of("validation", "accel", "hashing", "report"), p.stageNames());
    assertEquals(List.of("validation", "hashing", "report"), p.toBuilder().removeStage("accel").build().stageNames());
    BuildException e =
        assertThrows(BuildException.class, () -> p.toBuilder().addStageBefore("nope", stage("x")));
    assertTrue(e.getMessage().contains("no stage named 'nope'"), e.getMessage());
  }

  @Test
  void presets() {
    assertEquals(List.of("validation", "hashing"), BuildPipeline.standard().stageNames());
    assertEquals(List.of(), BuildPipeline.standard().hooks());
    BuildPipeline training = BuildPipeline.training();
    assertEquals(List.of("validation", "hashing"), training.stageNames());
    assertEquals(List.of("logging"), training.hooks().stream().map(PipelineHook::name).toList());
    assertEquals(List.of("validation", "hashing"), BuildPipeline.inference().stageNames());
    assertEquals("inference", BuildPipeline.inference().name());
    PipelineResult r = training.execute(ctx, chain());
    assertEquals(GraphDigest.of(chain()), r.digest());
  }

  @Test
  void executeWithBackendOnly() {
    PipelineResult r = BuildPipeline.standard().execute(new NullBackend(), chain());
    assertEquals(List.of("validation", "hashing"), r.stagesRun());
    assertFalse(r.trace().isEmpty());
  }
}
