package dev.aphelion.tritter.train;

import java.io.Serializable;

/**
 * Called by a {@link DataParallelWorker} after each step (after its checkpoint, if one was due),
 * on the worker's thread: progress reporting, or stopping a run by throwing. Serializable, so that
 * it travels to remote workers with the job.
 */
@FunctionalInterface
public interface StepListener extends Serializable {

  /**
   * One step is done.
   *
   * @param rank the worker
   * @param stepsDone the steps done so far in the run (1 after the first)
   */
  void afterStep(int rank, long stepsDone);
}
