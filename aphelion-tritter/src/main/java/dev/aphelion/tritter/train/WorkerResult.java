package dev.aphelion.tritter.train;

import java.io.Serializable;
import java.util.List;

/**
 * What one data-parallel worker hands back at the end of a run.
 *
 * @param rank the worker
 * @param parameters the final parameters (every worker ends with the same ones; a transport may
 *     leave them out, null, for every rank but 0)
 * @param parameterHash {@link java.util.Arrays#hashCode(float[])} of the final parameters, to check
 *     that the replicas did not diverge
 * @param epochs this worker's statistics per epoch
 * @param exchange this worker's exchange statistics
 * @param steps optimizer steps taken
 * @param skippedSteps steps skipped because a gradient was not finite (with loss scaling)
 * @param nanos wall time of all steps
 */
public record WorkerResult(int rank, float[] parameters, int parameterHash, List<EpochStats> epochs,
    ExchangeStats exchange, long steps, long skippedSteps, long nanos) implements Serializable {

  /** Wall time per step in milliseconds. */
  public double millisPerStep() {
    return steps == 0 ? 0 : nanos / 1e6 / steps;
  }

  /** The same result without the parameter vector (for transport from ranks other than 0). */
  public WorkerResult withoutParameters() {
    return new WorkerResult(rank, null, parameterHash, epochs, exchange, steps, skippedSteps, nanos);
  }
}
