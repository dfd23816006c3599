/**
 * Training as a library: trainable layers over one flat parameter vector ({@link
 * dev.aphelion.tritter.train.Sequential}: {@link dev.aphelion.tritter.train.TernaryLinear} with
 * latent weights and the straight-through estimator, {@link dev.aphelion.tritter.train.DenseLinear},
 * {@link dev.aphelion.tritter.train.RmsNormLayer}, {@link dev.aphelion.tritter.train.ActivationLayer}),
 * {@link dev.aphelion.tritter.train.SoftmaxCrossEntropy}, optimizers ({@link
 * dev.aphelion.tritter.train.AdamW}, {@link dev.aphelion.tritter.train.SgdMomentum}), the
 * warm-up/cosine {@link dev.aphelion.tritter.train.LearningRateSchedule}, {@link
 * dev.aphelion.tritter.train.GradientClipping}, data-parallel training behind the {@link
 * dev.aphelion.tritter.train.GradientExchange} SPI ({@link dev.aphelion.tritter.train.DataParallelTrainer}
 * on threads), export into the inference layers ({@link dev.aphelion.tritter.train.InferenceNetwork}),
 * and the utilities {@link dev.aphelion.tritter.train.GradientAccumulator}, {@link
 * dev.aphelion.tritter.train.LossScaler} and {@link dev.aphelion.tritter.train.DeterministicPhaseTrainer}.
 * Sits above {@code nn} in the package layers (it exports into nn's layers and compresses with
 * {@code compress}).
 */
package dev.aphelion.tritter.train;
