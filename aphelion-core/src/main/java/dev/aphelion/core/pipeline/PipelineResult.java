package dev.aphelion.core.pipeline;

import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.hash.GraphDigest;
import dev.aphelion.core.trace.TraceEvent;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a successful {@link BuildPipeline} run produced.
 *
 * @param graph the graph returned by the last stage
 * @param digest the {@link GraphDigest} of {@code graph}
 * @param timings the duration of every stage that ran, in run order
 * @param skipped the names of the stages that were skipped, in pipeline order
 * @param trace the trace events recorded during the run, oldest first (bounded; see {@code
 *     traceDropped})
 * @param traceDropped how many of the run's oldest events did not fit the run's trace buffer
 */
public record PipelineResult(
    BuildGraph graph,
    GraphDigest digest,
    List<StageTiming> timings,
    List<String> skipped,
    List<TraceEvent> trace,
    long traceDropped) {

  /** Checks the components and freezes the lists. */
  public PipelineResult {
    Objects.requireNonNull(graph, "graph");
    Objects.requireNonNull(digest, "digest");
    timings = List.copyOf(timings);
    skipped = List.copyOf(skipped);
    trace = List.copyOf(trace);
    if (traceDropped < 0) {
      throw new IllegalArgumentException("traceDropped must be >= 0");
    }
  }

  /**
   * The sum of all stage durations.
   *
   * @return the total stage time
   */
  public Duration totalStageTime() {
    Duration sum = Duration.ZERO;
    for (StageTiming t : timings) {
      sum = sum.plus(t.duration());
    }
    return sum;
  }

  /**
   * The duration of one stage.
   *
   * @param stage the stage name
   * @return its duration, or empty if it did not run
   */
  public Optional<Duration> timing(String stage) {
    return timings.stream().filter(t -> t.stage().equals(stage)).map(StageTiming::duration).findFirst();
  }

  /**
   * The names of the stages that ran, in order.
   *
   * @return the stage names
   */
  public List<String> stagesRun() {
    return timings.stream().map(StageTiming::stage).toList();
  }
}
