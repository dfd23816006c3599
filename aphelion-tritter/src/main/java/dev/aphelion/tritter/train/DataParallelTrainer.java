package dev.aphelion.tritter.train;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.error.ShapeException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Synchronous data-parallel training on threads of this JVM: the training data is cut into one
 * contiguous partition per worker ({@link Examples#partition}), every worker runs a
 * {@link DataParallelWorker} on its own replica of the model, and an {@link InProcessExchange}
 * averages the gradients each step (float32 or compressed). The Spark trainer of {@code
 * aphelion-spark} runs the same workers as barrier tasks and computes the same bits.
 */
public final class DataParallelTrainer {
  private DataParallelTrainer() {}

  /**
   * Trains {@code model} in place.
   *
   * @param model the model; its parameters are the starting point and receive the result
   * @param train the training examples
   * @param eval examples evaluated by worker 0 after each epoch, or null
   * @param config the hyper-parameters
   * @param workers the number of worker threads, at least 1
   * @param exchange float32 or compressed gradients
   * @return the trained model and the statistics
   * @throws AphelionException if a worker fails (the others are released, not left waiting)
   */
  public static TrainingResult fit(Sequential model, Examples train, Examples eval, TrainingConfig config, int workers,
      ExchangeSettings exchange) {
    return fit(model, train, eval, config, workers, exchange, null, null);
  }

  /**
   * Trains {@code model} in place with checkpoints: if {@code checkpoints}' directory holds a
   * complete checkpoint of this job ({@link CheckpointSettings#latestComplete}), the workers
   * resume from the newest one, and the run ends with the parameters of an uninterrupted run.
   *
   * @param model the model; its parameters are the starting point and receive the result
   * @param train the training examples
   * @param eval examples evaluated by worker 0 after each epoch, or null
   * @param config the hyper-parameters
   * @param workers the number of worker threads, at least 1
   * @param exchange float32 or compressed gradients
   * @param checkpoints where and how often to checkpoint, or null for none
   * @param listener called by every worker after each step, or null
   * @return the trained model and the statistics (of the steps this call ran)
   * @throws AphelionException if a worker fails (the others are released, not left waiting)
   */
  public static TrainingResult fit(Sequential model, Examples train, Examples eval, TrainingConfig config, int workers,
      ExchangeSettings exchange, CheckpointSettings checkpoints, StepListener listener) {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(train, "train");
    Objects.requireNonNull(config, "config");
    if (workers < 1) {
      throw new ShapeException("need at least one worker, got " + workers);
    }
    model.checkData(train);
    if (eval != null) {
      model.checkData(eval);
    }
    List<Examples> parts = train.partition(workers);
    int[] sizes = parts.stream().mapToInt(Examples::count).toArray();
    int steps = config.stepsPerEpoch(sizes);
    InProcessExchange group = InProcessExchange.create(workers, model.parameterCount(), exchange, config.exchangeTimeout());
    List<DataParallelWorker> loops = new ArrayList<>(workers);
    for (int w = 0; w < workers; w++) {
      loops.add(new DataParallelWorker(model.copy(), parts.get(w), config, group.member(w), steps).checkpoints(checkpoints)
          .listener(listener));
    }
    long resume = checkpoints == null ? -1 : checkpoints.latestComplete(workers);
    ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
      Thread t = new Thread(r, "aphelion-train-worker");
      t.setDaemon(true);
      return t;
    });
    try {
      List<Future<WorkerResult>> futures = new ArrayList<>(workers);
      for (int w = 0; w < workers; w++) {
        DataParallelWorker loop = loops.get(w);
        Examples evalSet = w == 0 ? eval : null;
        futures.add(pool.submit(() -> {
          try {
            return loop.run(evalSet, resume);
          } catch (RuntimeException | Error e) {
            group.abort();
            throw e;
          }
        }));
      }
      List<WorkerResult> results = new ArrayList<>(workers);
      AphelionException failure = null;
      for (Future<WorkerResult> f : futures) {
        try {
          results.add(f.get());
        } catch (ExecutionException e) {
          AphelionException ae = e.getCause() instanceof AphelionException a ? a
              : new AphelionException(ErrorCode.BACKEND, "a training worker failed: " + e.getCause(), e.getCause());
          // report the worker that failed first, not the others that the broken barrier released
          boolean released = ae.getCause() instanceof java.util.concurrent.BrokenBarrierException;
          if (failure == null || (!released && failure.getCause() instanceof java.util.concurrent.BrokenBarrierException)) {
            failure = ae;
          }
        }
      }
      if (failure != null) {
        throw failure;
      }
      return TrainingResult.assemble(model, results);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      group.abort();
      throw new AphelionException(ErrorCode.BACKEND, "training interrupted", e);
    } finally {
      pool.shutdownNow();
    }
  }
}
