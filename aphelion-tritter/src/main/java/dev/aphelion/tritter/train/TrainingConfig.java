package dev.aphelion.tritter.train;

import dev.aphelion.core.error.ConfigException;
import java.io.Serializable;
import java.time.Duration;
import java.util.Objects;

/**
 * The hyper-parameters of a training run, serializable so that remote workers get the same ones.
 *
 * @param epochs passes over the training data, at least 1
 * @param batchSize examples per optimizer step over all workers; each of {@code W} workers takes
 *     {@code ceil(batchSize / W)} of its own partition per step, and the last batch of an epoch
 *     may be shorter (or empty on a small partition)
 * @param microBatch examples per forward/backward pass, accumulated with {@link GradientAccumulator}
 *     into one step; 0 for the whole local batch at once
 * @param optimizer the optimizer
 * @param schedule the learning rate per step
 * @param clipNorm the global L2 norm the averaged gradient is clipped to, 0 for none
 * @param lossScaling whether a {@link LossScaler} scales the loss (steps with a non-finite gradient
 *     are then skipped by every worker instead of failing)
 * @param seed the seed of the per-worker shuffling
 * @param exchangeTimeout the longest one exchange waits for the other workers
 */
public record TrainingConfig(int epochs, int batchSize, int microBatch, OptimizerConfig optimizer,
    LearningRateSchedule schedule, double clipNorm, boolean lossScaling, long seed, Duration exchangeTimeout)
    implements Serializable {

  /** Checks the ranges. */
  public TrainingConfig {
    Objects.requireNonNull(optimizer, "optimizer");
    Objects.requireNonNull(schedule, "schedule");
    Objects.requireNonNull(exchangeTimeout, "exchangeTimeout");
    if (epochs < 1) {
      throw new ConfigException("epochs must be at least 1, got " + epochs);
    }
    if (batchSize < 1) {
      throw new ConfigException("batch size must be at least 1, got " + batchSize);
    }
    if (microBatch < 0) {
      throw new ConfigException("micro-batch size must be 0 (whole batch) or positive, got " + microBatch);
    }
    if (!(clipNorm >= 0) || Double.isInfinite(clipNorm)) {
      throw new ConfigException("clip norm must be finite and >= 0 (0 = none), got " + clipNorm);
    }
    if (exchangeTimeout.isNegative() || exchangeTimeout.isZero()) {
      throw new ConfigException("exchange timeout must be positive, got " + exchangeTimeout);
    }
  }

  /**
   * Defaults around a schedule: AdamW without decay, no micro-batches, no clipping, no loss
   * scaling, seed 0, a 5-minute exchange timeout.
   *
   * @param epochs the epochs
   * @param batchSize the global batch size
   * @param schedule the learning rate schedule
   * @return the configuration
   */
  public static TrainingConfig of(int epochs, int batchSize, LearningRateSchedule schedule) {
    return new TrainingConfig(epochs, batchSize, 0, OptimizerConfig.AdamW.defaults(0f), schedule, 0, false, 0,
        Duration.ofMinutes(5));
  }

  /**
   * A copy with another optimizer.
   *
   * @param o the optimizer
   * @return the copy
   */
  public TrainingConfig withOptimizer(OptimizerConfig o) {
    return new TrainingConfig(epochs, batchSize, microBatch, o, schedule, clipNorm, lossScaling, seed, exchangeTimeout);
  }

  /**
   * A copy with micro-batches.
   *
   * @param m examples per micro-batch, 0 for none
   * @return the copy
   */
  public TrainingConfig withMicroBatch(int m) {
    return new TrainingConfig(epochs, batchSize, m, optimizer, schedule, clipNorm, lossScaling, seed, exchangeTimeout);
  }

  /**
   * A copy with gradient clipping.
   *
   * @param norm the global norm, 0 for none
   * @return the copy
   */
  public TrainingConfig withClipNorm(double norm) {
    return new TrainingConfig(epochs, batchSize, microBatch, optimizer, schedule, norm, lossScaling, seed, exchangeTimeout);
  }

  /**
   * A copy with loss scaling on or off.
   *
   * @param on whether to scale the loss
   * @return the copy
   */
  public TrainingConfig withLossScaling(boolean on) {
    return new TrainingConfig(epochs, batchSize, microBatch, optimizer, schedule, clipNorm, on, seed, exchangeTimeout);
  }

  /**
   * A copy with another shuffling seed.
   *
   * @param s the seed
   * @return the copy
   */
  public TrainingConfig withSeed(long s) {
    return new TrainingConfig(epochs, batchSize, microBatch, optimizer, schedule, clipNorm, lossScaling, s, exchangeTimeout);
  }

  /**
   * A copy with another exchange timeout.
   *
   * @param t the timeout
   * @return the copy
   */
  public TrainingConfig withExchangeTimeout(Duration t) {
    return new TrainingConfig(epochs, batchSize, microBatch, optimizer, schedule, clipNorm, lossScaling, seed, t);
  }

  /**
   * Examples each worker takes per step.
   *
   * @param workers the number of workers
   * @return {@code ceil(batchSize / workers)}
   */
  public int localBatch(int workers) {
    return (batchSize + workers - 1) / workers;
  }

  /**
   * Steps per epoch for partitions of the given sizes: enough for the largest partition to be
   * seen once ({@code ceil(max size / localBatch)}); the same on every worker.
   *
   * @param partitionSizes the examples of each worker's partition
   * @return the steps, at least 1
   * @throws ConfigException if every partition is empty
   */
  public int stepsPerEpoch(int[] partitionSizes) {
    int max = 0;
    for (int s : partitionSizes) {
      max = Math.max(max, s);
    }
    if (max == 0) {
      throw new ConfigException("every partition of the training data is empty");
    }
    int lb = localBatch(partitionSizes.length);
    return (max + lb - 1) / lb;
  }
}
