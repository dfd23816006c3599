package dev.aphelion.core.pipeline;

import dev.aphelion.core.backend.Backend;
import dev.aphelion.core.error.BuildException;
import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.hash.GraphDigest;
import dev.aphelion.core.trace.FanOutTraceSink;
import dev.aphelion.core.trace.InMemoryTraceSink;
import dev.aphelion.core.trace.Span;
import dev.aphelion.core.trace.TraceLevel;
import dev.aphelion.core.trace.Tracer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Runs {@link PipelineStage}s in order over an immutable {@link BuildGraph}, with {@link
 * PipelineHook}s around the pipeline and around every stage. Immutable and thread-safe: one
 * pipeline may run several builds at once.
 *
 * <p>A run:
 *
 * <ol>
 *   <li>derives a run tracer that records to the context's sink and to a bounded run buffer (whose
 *       events end up in {@link PipelineResult#trace()}), and opens a span {@code pipeline};
 *   <li>calls {@link PipelineHook#beforePipeline} on every hook;
 *   <li>for each stage not skipped: {@code beforeStage} hooks, the stage inside a span named after
 *       it (its duration becomes the stage timing), {@code afterStage} hooks;
 *   <li>computes the final graph's {@link GraphDigest} (reusing the one {@link HashingStage}
 *       recorded when the graph is unchanged since), builds the {@link PipelineResult} and calls
 *       {@code afterPipeline} hooks.
 * </ol>
 *
 * <p>Any exception from a stage or hook stops the run: it is wrapped in a {@link BuildException}
 * that names the stage (and the hook, if a hook threw) and chains the cause; every hook's {@link
 * PipelineHook#onFailure} then runs, and an exception from one of those is added to the {@code
 * BuildException} as suppressed. {@link VirtualMachineError}s are not wrapped.
 *
 * <p>Presets: {@link #standard()} (validation, hashing), {@link #training()} (standard plus {@link
 * LoggingHook}) and {@link #inference()} (structural validation, hashing). Extend one with {@link
 * #toBuilder()}, for example {@code BuildPipeline.training().toBuilder().addStageBefore("hashing",
 * accelerationStage).build()}.
 */
public final class BuildPipeline {
  /** Capacity of a run's trace buffer unless {@link Builder#traceCapacity(int)} says otherwise. */
  public static final int DEFAULT_TRACE_CAPACITY = 10_000;

  /** Name of the span that encloses a whole run. */
  public static final String PIPELINE_SPAN = "pipeline";

  private final String name;
  private final List<PipelineStage> stages;
  private final List<PipelineHook> hooks;
  private final Set<String> skip;
  private final int traceCapacity;

  private BuildPipeline(Builder b) {
    this.name = b.name;
    this.stages = List.copyOf(b.stages);
    this.hooks = List.copyOf(b.hooks);
    this.skip = Set.copyOf(b.skip);
    this.traceCapacity = b.traceCapacity;
  }

  /**
   * Starts an empty builder.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The standard pipeline: {@link ValidationStage#standard()} then {@link HashingStage}.
   *
   * @return a new pipeline named {@code standard}
   */
  public static BuildPipeline standard() {
    return builder()
        .name("standard")
        .stage(ValidationStage.standard())
        .stage(new HashingStage())
        .build();
  }

  /**
   * The training pipeline: the standard stages plus a {@link LoggingHook}.
   *
   * @return a new pipeline named {@code training}
   */
  public static BuildPipeline training() {
    return standard().toBuilder().name("training").hook(new LoggingHook()).build();
  }

  /**
   * The inference pipeline: {@link ValidationStage#structural()} (graph shape only; configs were
   * checked when the model was trained) then {@link HashingStage}, so a served model can be matched
   * against its training fingerprint.
   *
   * @return a new pipeline named {@code inference}
   */
  public static BuildPipeline inference() {
    return builder()
        .name("inference")
        .stage(ValidationStage.structural())
        .stage(new HashingStage())
        .build();
  }

  /**
   * A builder holding this pipeline's name, stages, hooks, skips and trace capacity.
   *
   * @return a new builder
   */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.name = name;
    b.stages.addAll(stages);
    b.hooks.addAll(hooks);
    b.skip.addAll(skip);
    b.traceCapacity = traceCapacity;
    return b;
  }

  /**
   * The pipeline's name (used in the trace).
   *
   * @return the name
   */
  public String name() {
    return name;
  }

  /**
   * The stages, in run order, skipped ones included.
   *
   * @return an immutable list
   */
  public List<PipelineStage> stages() {
    return stages;
  }

  /**
   * The stage names, in run order.
   *
   * @return an immutable list
   */
  public List<String> stageNames() {
    return stages.stream().map(PipelineStage::name).toList();
  }

  /**
   * The hooks, in call order.
   *
   * @return an immutable list
   */
  public List<PipelineHook> hooks() {
    return hooks;
  }

  /**
   * The names of the stages that will be skipped.
   *
   * @return an immutable set
   */
  public Set<String> skipped() {
    return skip;
  }

  /**
   * Runs the pipeline with a fresh context on this backend (no config, no tracing sink; the
   * result's trace still holds the run's events).
   *
   * @param backend the backend
   * @param graph the input graph
   * @return the result
   * @throws BuildException if a stage or hook fails
   */
  public PipelineResult execute(Backend backend, BuildGraph graph) {
    return execute(BuildContext.of(backend), graph);
  }

  /**
   * Runs the pipeline.
   *
   * @param ctx the build context
   * @param graph the input graph
   * @return the result
   * @throws BuildException if a stage or hook fails: names the stage, chains the cause
   */
  public PipelineResult execute(BuildContext ctx, BuildGraph graph) {
    Objects.requireNonNull(ctx, "ctx");
    Objects.requireNonNull(graph, "graph");
    InMemoryTraceSink runTrace = new InMemoryTraceSink(traceCapacity);
    Tracer tracer = ctx.tracer().withSink(FanOutTraceSink.of(ctx.traceSink(), runTrace));
    BuildContext run = ctx.withTracer(tracer);

    Span pipelineSpan =
        tracer.span(
            PIPELINE_SPAN,
            Map.of("pipeline", name, "backend", ctx.backend().name(), "nodes", graph.nodeCount()));
    // hooks record inside the pipeline span, stages inside their own span
    BuildContext hookCtx = run.withTracer(tracer.within(pipelineSpan));
    String current = null; // the stage whose part of the run is in progress
    try {
      for (PipelineHook h : hooks) {
        callHook(h, "beforePipeline", null, () -> h.beforePipeline(hookCtx, graph));
      }
      BuildGraph g = graph;
      List<StageTiming> timings = new ArrayList<>();
      List<String> skippedNow = new ArrayList<>();
      for (PipelineStage stage : stages) {
        String stageName = stage.name();
        if (skip.contains(stageName)) {
          skippedNow.add(stageName);
          pipelineSpan.event(TraceLevel.INFO, stageName + " skipped", Map.of("stage", stageName));
          continue;
        }
        current = stageName;
        BuildGraph in = g;
        for (PipelineHook h : hooks) {
          callHook(h, "beforeStage", stageName, () -> h.beforeStage(hookCtx, stageName, in));
        }
        Span span = pipelineSpan.child(stageName);
        span.attribute("stage", stageName);
        // what the stage records is attributed to its span
        BuildContext stageCtx = run.withTracer(tracer.within(span));
        BuildGraph out;
        try {
          out = stage.execute(stageCtx, in);
          if (out == null) {
            throw new IllegalStateException("stage returned null instead of a graph");
          }
        } catch (RuntimeException | Error e) {
          span.fail(e);
          span.close();
          throw e;
        }
        span.attribute("nodes", out.nodeCount()).attribute("edges", out.edgeCount());
        span.close();
        Duration took = span.duration();
        timings.add(new StageTiming(stageName, took));
        BuildGraph after = out;
        for (PipelineHook h : hooks) {
          callHook(h, "afterStage", stageName, () -> h.afterStage(hookCtx, stageName, after, took));
        }
        g = out;
      }
      current = null;
      GraphDigest digest = HashingStage.digestOf(run, g);
      pipelineSpan.attribute("digest", digest.hex());
      // The result's trace is taken before afterPipeline hooks and the span end, so that hooks
      // can see the complete result; the pipeline's end event reaches the context's sink only.
      PipelineResult result =
          new PipelineResult(g, digest, timings, skippedNow, runTrace.events(), runTrace.dropped());
      for (PipelineHook h : hooks) {
        callHook(h, "afterPipeline", null, () -> h.afterPipeline(hookCtx, result));
      }
      pipelineSpan.close();
      return result;
    } catch (VirtualMachineError e) {
      throw e;
    } catch (RuntimeException | Error e) {
      Throwable original = e instanceof HookFailure hf ? hf.getCause() : e;
      String message = e instanceof HookFailure hf ? hf.getMessage() : "failed: " + describe(original);
      BuildException failure = new BuildException(current, message, original);
      for (PipelineHook h : hooks) {
        try {
          h.onFailure(hookCtx, current, original);
        } catch (VirtualMachineError vme) {
          throw vme;
        } catch (RuntimeException | Error hookError) {
          failure.addSuppressed(hookError);
        }
      }
      try {
        pipelineSpan.fail(failure);
        pipelineSpan.close();
      } catch (RuntimeException traceError) { // a throwing sink must not hide the failure
        failure.addSuppressed(traceError);
      }
      throw failure;
    }
  }

  private static String describe(Throwable t) {
    String msg = t.getMessage();
    return msg == null ? t.getClass().getName() : msg;
  }

  private static void callHook(PipelineHook hook, String method, String stage, Runnable call) {
    try {
      call.run();
    } catch (VirtualMachineError e) {
      throw e;
    } catch (RuntimeException | Error e) {
      String where = stage == null ? "" : " for stage '" + stage + "'";
      throw new HookFailure(
          "hook '" + hook.name() + "' failed in " + method + where + ": " + describe(e), e);
    }
  }

  /** Carries a hook's failure and its description up to the catch in {@code execute}. */
  private static final class HookFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    HookFailure(String message, Throwable cause) {
      super(message, cause, false, false);
    }
  }

  @Override
  public String toString() {
    return "BuildPipeline[" + name + ": stages=" + stageNames() + ", skip=" + new TreeSet<>(skip)
        + ", hooks=" + hooks.stream().map(PipelineHook::name).toList() + "]";
  }

  /** Builder for {@link BuildPipeline}. */
  public static final class Builder {
    private String name = "custom";
    private final List<PipelineStage> stages = new ArrayList<>();
    private final List<PipelineHook> hooks = new ArrayList<>();
    private final Set<String> skip = new LinkedHashSet<>();
    private int traceCapacity = DEFAULT_TRACE_CAPACITY;

    private Builder() {}

    /**
     * Names the pipeline (default {@code custom}).
     *
     * @param pipelineName the name
     * @return this builder
     */
    public Builder name(String pipelineName) {
      this.name = Objects.requireNonNull(pipelineName, "name");
      return this;
    }

    /**
     * Appends a stage.
     *
     * @param stage the stage
     * @return this builder
     */
    public Builder stage(PipelineStage stage) {
      stages.add(Objects.requireNonNull(stage, "stage"));
      return this;
    }

    /**
     * Appends several stages.
     *
     * @param list the stages, in order
     * @return this builder
     */
    public Builder stages(List<? extends PipelineStage> list) {
      list.forEach(this::stage);
      return this;
    }

    /**
     * Inserts a stage before an existing one.
     *
     * @param existing the name of the stage to insert before
     * @param stage the new stage
     * @return this builder
     * @throws BuildException if no stage is named {@code existing}
     */
    public Builder addStageBefore(String existing, PipelineStage stage) {
      stages.add(indexOf(existing), Objects.requireNonNull(stage, "stage"));
      return this;
    }

    /**
     * Inserts a stage after an existing one.
     *
     * @param existing the name of the stage to insert after
     * @param stage the new stage
     * @return this builder
     * @throws BuildException if no stage is named {@code existing}
     */
    public Builder addStageAfter(String existing, PipelineStage stage) {
      stages.add(indexOf(existing) + 1, Objects.requireNonNull(stage, "stage"));
      return this;
    }

    /**
     * Removes a stage.
     *
     * @param existing the name of the stage to remove
     * @return this builder
     * @throws BuildException if no stage is named {@code existing}
     */
    public Builder removeStage(String existing) {
      stages.remove(indexOf(existing));
      skip.remove(existing);
      return this;
    }

    private int indexOf(String stageName) {
      for (int i = 0; i < stages.size(); i++) {
        if (stages.get(i).name().equals(stageName)) {
          return i;
        }
      }
      throw new BuildException(
          null,
          "no stage named '" + stageName + "'; stages: " + stages.stream().map(PipelineStage::name).toList(),
          null);
    }

    /**
     * Appends a hook.
     *
     * @param hook the hook
     * @return this builder
     */
    public Builder hook(PipelineHook hook) {
      hooks.add(Objects.requireNonNull(hook, "hook"));
      return this;
    }

    /**
     * Skips stages by name. Every name must belong to a stage when {@link #build()} is called.
     *
     * @param stageNames the stages to skip
     * @return this builder
     */
    public Builder skip(String... stageNames) {
      for (String s : stageNames) {
        skip.add(Objects.requireNonNull(s, "stage name"));
      }
      return this;
    }

    /**
     * Stops skipping a stage.
     *
     * @param stageName the stage
     * @return this builder
     */
    public Builder unskip(String stageName) {
      skip.remove(stageName);
      return this;
    }

    /**
     * Sets how many trace events a run keeps for its result (default {@value
     * #DEFAULT_TRACE_CAPACITY}); older ones are dropped and counted.
     *
     * @param capacity at least 1
     * @return this builder
     */
    public Builder traceCapacity(int capacity) {
      if (capacity < 1) {
        throw new IllegalArgumentException("trace capacity must be >= 1, got " + capacity);
      }
      this.traceCapacity = capacity;
      return this;
    }

    /**
     * Builds the pipeline.
     *
     * @return the pipeline
     * @throws BuildException if a stage name is blank or used twice, a hook name is blank, or a
     *     skipped name matches no stage (the message lists the stages)
     */
    public BuildPipeline build() {
      Set<String> names = new HashSet<>();
      for (PipelineStage s : stages) {
        String n = s.name();
        if (n == null || n.isBlank()) {
          throw new BuildException(null, "stage " + s.getClass().getName() + " has a blank name", null);
        }
        if (!names.add(n)) {
          throw new BuildException(null, "two stages are named '" + n + "'", null);
        }
      }
      for (PipelineHook h : hooks) {
        if (h.name() == null || h.name().isBlank()) {
          throw new BuildException(null, "hook " + h.getClass().getName() + " has a blank name", null);
        }
      }
      Set<String> unknown = new TreeSet<>(skip);
      unknown.removeAll(names);
      if (!unknown.isEmpty()) {
        throw new BuildException(
            null,
            "cannot skip unknown stage(s) "
                + unknown
                + "; stages: "
                + stages.stream().map(PipelineStage::name).toList(),
            null);
      }
      return new BuildPipeline(this);
    }
  }
}
