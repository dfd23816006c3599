/**
 * Integration with aphelion-core: the CPU backend ({@link dev.aphelion.tritter.accel.TritterAccelBackend}), the
 * {@link dev.aphelion.tritter.accel.AccelerationStage} pipeline stage, the {@link dev.aphelion.tritter.accel.GradientCompressionHook}
 * pipeline hook, models built from a {@code BuildGraph} ({@link dev.aphelion.tritter.accel.AcceleratedInference})
 * and the batched {@link dev.aphelion.tritter.accel.InferenceEngine}.
 */
package dev.aphelion.tritter.accel;
