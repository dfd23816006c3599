package dev.aphelion.core.pipeline;

import dev.aphelion.core.graph.BuildGraph;

/**
 * One step of a {@link BuildPipeline}: takes a graph and returns the graph the next stage sees.
 * Graphs are immutable, so a stage that changes nothing returns its input and a stage that changes
 * something builds a new graph ({@code graph.toBuilder()...build()}).
 *
 * <p>A stage reports a problem by throwing (typically a subclass of {@link
 * dev.aphelion.core.error.AphelionException}); the pipeline wraps it in a {@link
 * dev.aphelion.core.error.BuildException} naming the stage. Stages may read and write {@link
 * BuildContext} attributes and record trace events through {@link BuildContext#tracer()}.
 */
public interface PipelineStage {

  /**
   * The stage's name, unique within a pipeline; used for skipping, timings and error messages.
   *
   * @return a constant, non-blank name, for example {@code "validation"}
   */
  String name();

  /**
   * Runs the stage.
   *
   * @param ctx the build context
   * @param graph the graph produced by the previous stage
   * @return the graph for the next stage, never {@code null}
   */
  BuildGraph execute(BuildContext ctx, BuildGraph graph);
}
