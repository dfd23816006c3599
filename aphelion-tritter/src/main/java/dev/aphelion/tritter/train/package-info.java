/**
 * Trainer utilities: {@link dev.aphelion.tritter.train.GradientAccumulator} (micro-batch accumulation), {@link
 * dev.aphelion.tritter.train.LossScaler} (dynamic loss scaling) and {@link dev.aphelion.tritter.train.DeterministicPhaseTrainer}
 * (warm-up / full / correction phases with reproducible state).
 */
package dev.aphelion.tritter.train;
