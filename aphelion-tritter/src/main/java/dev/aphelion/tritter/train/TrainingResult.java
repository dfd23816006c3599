package dev.aphelion.tritter.train;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The outcome of a data-parallel run: the trained model and every worker's statistics.
 *
 * @param model the trained model (rank 0's replica, identical to every other)
 * @param workers every worker's result, by rank
 */
public record TrainingResult(Sequential model, List<WorkerResult> workers) {

  /**
   * Assembles the result, checking that every replica ended with the same parameters.
   *
   * @param template a model of the trained shape; rank 0's parameters are loaded into it
   * @param results one result per worker, in any order; rank 0's has the parameters
   * @return the result
   * @throws AphelionException if a replica diverged or rank 0's parameters are missing
   */
  public static TrainingResult assemble(Sequential template, List<WorkerResult> results) {
    List<WorkerResult> sorted = new ArrayList<>(results);
    sorted.sort(Comparator.comparingInt(WorkerResult::rank));
    WorkerResult first = sorted.getFirst();
    if (first.rank() != 0 || first.parameters() == null) {
      throw new AphelionException(ErrorCode.VALIDATION, "the result of worker 0, with the trained parameters, is missing");
    }
    for (WorkerResult r : sorted) {
      if (r.parameterHash() != first.parameterHash()) {
        throw new AphelionException(ErrorCode.VALIDATION, "worker " + r.rank() + " ended with other parameters than worker 0 "
            + "(hash " + r.parameterHash() + " vs " + first.parameterHash() + "): the replicas diverged");
      }
    }
    template.load(first.parameters());
    return new TrainingResult(template, List.copyOf(sorted));
  }

  /** The epochs with every worker's statistics merged. */
  public List<EpochStats> epochs() {
    List<EpochStats> merged = new ArrayList<>(workers.getFirst().epochs());
    for (WorkerResult w : workers.subList(1, workers.size())) {
      for (int e = 0; e < merged.size(); e++) {
        merged.set(e, merged.get(e).merge(w.epochs().get(e)));
      }
    }
    return merged;
  }

  /** The slowest worker's wall time per step, in milliseconds. */
  public double millisPerStep() {
    return workers.stream().mapToDouble(WorkerResult::millisPerStep).max().orElse(0);
  }

  /** The mean message bytes one worker sent per step. */
  public double messageBytesPerStep() {
    return workers.stream().mapToDouble(w -> w.exchange().messageBytesPerStep()).average().orElse(0);
  }
}
