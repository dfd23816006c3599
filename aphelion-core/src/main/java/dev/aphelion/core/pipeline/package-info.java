/**
 * The build pipeline: {@link dev.aphelion.core.pipeline.BuildPipeline} runs {@link
 * dev.aphelion.core.pipeline.PipelineStage}s over an immutable graph with {@link
 * dev.aphelion.core.pipeline.PipelineHook}s around the run and each stage, sharing a {@link
 * dev.aphelion.core.pipeline.BuildContext} (backend, config, tracer, typed attributes), and returns
 * a {@link dev.aphelion.core.pipeline.PipelineResult} with the final graph, its digest, stage
 * timings and the trace. Stock stages: {@link dev.aphelion.core.pipeline.ValidationStage} and
 * {@link dev.aphelion.core.pipeline.HashingStage}.
 */
package dev.aphelion.core.pipeline;
