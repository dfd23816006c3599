package dev.aphelion.core.pipeline;

import dev.aphelion.core.graph.BuildGraph;
import java.time.Duration;

/**
 * Observes (and may prepare for) a {@link BuildPipeline} run. Every method has a no-op default, so
 * a hook implements only what it needs. For a successful run with stages A and B the calls are:
 *
 * <pre>
 * beforePipeline, beforeStage(A), afterStage(A), beforeStage(B), afterStage(B), afterPipeline
 * </pre>
 *
 * <p>Skipped stages get no calls. When a stage or a hook throws, the run stops and every hook's
 * {@link #onFailure} is called once; a hook that throws there does not hide the original error (its
 * exception is added as suppressed). Hooks run in the order they were added.
 */
public interface PipelineHook {

  /**
   * The hook's name, used in error messages.
   *
   * @return a constant, non-blank name
   */
  String name();

  /**
   * Called once before the first stage.
   *
   * @param ctx the build context
   * @param graph the input graph
   */
  default void beforePipeline(BuildContext ctx, BuildGraph graph) {}

  /**
   * Called before each stage that is not skipped.
   *
   * @param ctx the build context
   * @param stageName the stage about to run
   * @param graph the graph the stage will receive
   */
  default void beforeStage(BuildContext ctx, String stageName, BuildGraph graph) {}

  /**
   * Called after each stage that completed.
   *
   * @param ctx the build context
   * @param stageName the stage that ran
   * @param graphAfter the graph the stage returned
   * @param duration how long the stage's {@code execute} took
   */
  default void afterStage(
      BuildContext ctx, String stageName, BuildGraph graphAfter, Duration duration) {}

  /**
   * Called once after the last stage, with the result that {@code execute} will return.
   *
   * @param ctx the build context
   * @param result the result
   */
  default void afterPipeline(BuildContext ctx, PipelineResult result) {}

  /**
   * Called once when the run fails.
   *
   * @param ctx the build context
   * @param stageName the stage that was running (or whose hooks were running), or {@code null} if
   *     the failure happened before the first or after the last stage
   * @param error the original failure (not yet wrapped)
   */
  default void onFailure(BuildContext ctx, String stageName, Throwable error) {}
}
