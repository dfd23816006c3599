package dev.aphelion.examples.fashion.nn;

import dev.aphelion.core.error.ConfigException;

/**
 * Hyper-parameters of one training run.
 *
 * @param epochs passes over the training set
 * @param batchSize examples per optimizer step, split evenly across the workers
 * @param learningRate peak Adam learning rate; it warms up linearly over {@code warmupSteps}, then
 *     decays along a cosine to 0 at the last step
 * @param warmupSteps steps of linear warm-up
 * @param weightDecay decoupled (AdamW) weight decay, 0 for none
 * @param workers data-parallel worker threads
 * @param seed seed for initialization and shuffling
 */
public record TrainOptions(
    int epochs, int batchSize, float learningRate, int warmupSteps, float weightDecay, int workers,
    long seed) {

  /** Checks the ranges. */
  public TrainOptions {
    if (epochs <= 0) {
      throw new ConfigException("epochs must be positive: " + epochs);
    }
    if (workers <= 0) {
      throw new ConfigException("workers must be positive: " + workers);
    }
    if (batchSize < workers) {
      throw new ConfigException(
          "batchSize " + batchSize + " must be at least the number of workers " + workers);
    }
    if (!(learningRate > 0) || Float.isInfinite(learningRate)) {
      throw new ConfigException("learningRate must be positive and finite: " + learningRate);
    }
    if (warmupSteps < 0 || weightDecay < 0) {
      throw new ConfigException(
          "warmupSteps and weightDecay must not be negative: " + warmupSteps + ", " + weightDecay);
    }
  }

  /**
   * The learning rate at a step.
   *
   * @param step the step, 0-based
   * @param totalSteps the number of steps of the whole run
   * @return the scheduled rate
   */
  public float learningRateAt(int step, int totalSteps) {
    if (step < warmupSteps) {
      return learningRate * (step + 1) / warmupSteps;
    }
    double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
    return (float) (learningRate * 0.5 * (1 + Math.cos(Math.PI * Math.min(1.0, progress))));
  }

  /**
   * A copy with another number of workers.
   *
   * @param n the workers
   * @return the copy
   */
  public TrainOptions withWorkers(int n) {
    return new TrainOptions(epochs, batchSize, learningRate, warmupSteps, weightDecay, n, seed);
  }

  /**
   * A copy with another number of epochs.
   *
   * @param n the epochs
   * @return the copy
   */
  public TrainOptions withEpochs(int n) {
    return new TrainOptions(n, batchSize, learningRate, warmupSteps, weightDecay, workers, seed);
  }

  /**
   * A copy with another peak learning rate.
   *
   * @param lr the rate
   * @return the copy
   */
  public TrainOptions withLearningRate(float lr) {
    return new TrainOptions(epochs, batchSize, lr, warmupSteps, weightDecay, workers, seed);
  }
}
