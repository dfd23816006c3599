package dev.aphelion.tritter.train;

import java.io.Serializable;

/**
 * One epoch of training as one worker, or all workers merged, saw it.
 *
 * @param epoch the epoch, 1-based
 * @param lossSum the summed training loss over the examples seen
 * @param correct training examples classified correctly (by the model of their step)
 * @param seen training examples seen
 * @param evalCorrect evaluation examples classified correctly after the epoch
 * @param evalCount evaluation examples (0 if none were given)
 * @param seconds wall time of the epoch's steps
 */
public record EpochStats(int epoch, double lossSum, long correct, long seen, long evalCorrect, long evalCount,
    double seconds) implements Serializable {

  /** The mean training loss. */
  public double trainLoss() {
    return seen == 0 ? Double.NaN : lossSum / seen;
  }

  /** The training accuracy. */
  public double trainAccuracy() {
    return seen == 0 ? Double.NaN : (double) correct / seen;
  }

  /** The evaluation accuracy, NaN when there was no evaluation set. */
  public double evalAccuracy() {
    return evalCount == 0 ? Double.NaN : (double) evalCorrect / evalCount;
  }

  /**
   * The workers' statistics of one epoch combined (sums; the longest time).
   *
   * @param other another worker's statistics of the same epoch
   * @return the sum
   */
  public EpochStats merge(EpochStats other) {
    return new EpochStats(epoch, lossSum + other.lossSum, correct + other.correct, seen + other.seen,
        evalCorrect + other.evalCorrect, evalCount + other.evalCount, Math.max(seconds, other.seconds));
  }
}
