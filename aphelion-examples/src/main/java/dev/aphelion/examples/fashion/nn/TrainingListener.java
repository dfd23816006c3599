package dev.aphelion.examples.fashion.nn;

/** Receives a trainer's progress, for example to draw a progress bar. */
public interface TrainingListener {
  /** A listener that ignores everything. */
  TrainingListener NONE = new TrainingListener() {};

  /**
   * Called after each optimizer step, from the trainer's thread.
   *
   * @param epoch the epoch, 1-based
   * @param step steps done in this epoch
   * @param steps steps per epoch
   * @param loss mean training loss of the epoch so far
   * @param accuracy training accuracy of the epoch so far
   */
  default void onStep(int epoch, int step, int steps, double loss, double accuracy) {}

  /**
   * Called after each epoch and its evaluation.
   *
   * @param stats the epoch's numbers
   */
  default void onEpoch(EpochStats stats) {}
}
