package dev.aphelion.core.pipeline;

import dev.aphelion.core.graph.BuildGraph;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs a pipeline run through SLF4J: the start (backend, graph size), every stage with its
 * duration, the final digest, and failures. Part of {@link BuildPipeline#training()}.
 */
public final class LoggingHook implements PipelineHook {
  /** The logger name used by {@link #LoggingHook()}. */
  public static final String DEFAULT_LOGGER = "dev.aphelion.pipeline";

  private final Logger log;

  /** A hook logging to {@value #DEFAULT_LOGGER}. */
  public LoggingHook() {
    this(LoggerFactory.getLogger(DEFAULT_LOGGER));
  }

  /**
   * A hook logging to the given logger.
   *
   * @param logger the logger
   */
  public LoggingHook(Logger logger) {
    this.log = Objects.requireNonNull(logger, "logger");
  }

  @Override
  public String name() {
    return "logging";
  }

  @Override
  public void beforePipeline(BuildContext ctx, BuildGraph graph) {
    log.info(
        "pipeline starting on backend {}: {} nodes, {} edges",
        ctx.backend().name(),
        graph.nodeCount(),
        graph.edgeCount());
  }

  @Override
  public void afterStage(BuildContext ctx, String stageName, BuildGraph graphAfter, Duration duration) {
    log.info("stage {} finished in {} ms ({} nodes)", stageName, millis(duration), graphAfter.nodeCount());
  }

  @Override
  public void afterPipeline(BuildContext ctx, PipelineResult result) {
    log.info(
        "pipeline finished: {} stage(s) in {} ms, skipped {}, digest {}",
        result.timings().size(),
        millis(result.totalStageTime()),
        result.skipped(),
        result.digest().hex());
  }

  @Override
  public void onFailure(BuildContext ctx, String stageName, Throwable error) {
    log.error("pipeline failed{}: {}", stageName == null ? "" : " in stage " + stageName, error.toString());
  }

  static String millis(Duration d) {
    return String.format(Locale.ROOT, "%.3f", d.toNanos() / 1e6);
  }
}
