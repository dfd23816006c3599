package dev.aphelion.spark;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.train.CheckpointSettings;
import dev.aphelion.tritter.train.DataParallelWorker;
import dev.aphelion.tritter.train.ExchangeSettings;
import dev.aphelion.tritter.train.Examples;
import dev.aphelion.tritter.train.Sequential;
import dev.aphelion.tritter.train.StepListener;
import dev.aphelion.tritter.train.TrainingConfig;
import dev.aphelion.tritter.train.TrainingResult;
import dev.aphelion.tritter.train.WorkerResult;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

/**
 * Synchronous data-parallel training as one Spark job in barrier execution mode.
 *
 * <p>The RDD's partitions are the workers: the stage runs one barrier task per partition, all at
 * once (the cluster needs that many task slots). Each task collects its partition into memory,
 * learns the other partitions' sizes (one {@code allGather}), and runs the library's
 * {@link DataParallelWorker} on its own replica of the model, exchanging its gradient every step
 * through {@link BarrierExchange} (float32 or compressed, Base64 over
 * {@link BarrierTaskContext#allGather(String)}). Every replica applies the same averaged gradient,
 * so all end with the same parameters; task 0 returns them, every task returns its statistics and
 * a hash of its parameters, and the driver checks that the hashes agree.
 *
 * <p>With the same partitions, settings and kernels, the result is the one
 * {@link dev.aphelion.tritter.train.DataParallelTrainer} computes with threads; bit for bit where
 * the kernels are deterministic ({@code -Daphelion.kernels=scalar}: the Vector API's float
 * reductions may sum in another order once C2 compiles them).
 *
 * <p>{@code spark.barrier.sync.timeout} (seconds) must be set, so that a lost task fails the stage
 * instead of blocking the others for Spark's default of one year; {@link #fit} refuses to start
 * without it. An executor that loses the driver exits (Spark's own behaviour), so its tasks end.
 */
public final class SparkTrainer {
  /** The Spark setting that bounds every barrier wait; {@link #fit} requires it. */
  public static final String BARRIER_TIMEOUT = "spark.barrier.sync.timeout";

  private SparkTrainer() {}

  /**
   * Distributes a data set as an RDD of {@code partitions} contiguous slices (the slicing of
   * {@link Examples#partition}).
   *
   * @param spark the context
   * @param data the examples
   * @param partitions the number of partitions = workers
   * @return the RDD
   */
  public static JavaRDD<LabeledRow> parallelize(JavaSparkContext spark, Examples data, int partitions) {
    if (partitions < 1) {
      throw new ShapeException("need at least one partition, got " + partitions);
    }
    return spark.parallelize(LabeledRow.of(data), partitions);
  }

  /**
   * Trains {@code model} on {@code data}, one worker per partition, and loads the trained
   * parameters into it.
   *
   * @param data the training rows; its partitions are the workers
   * @param model the model; its parameters are the starting point of every worker
   * @param config the hyper-parameters
   * @param exchange float32 or compressed gradients
   * @param eval examples worker 0 evaluates after each epoch, or null
   * @return the trained model and every worker's statistics
   * @throws AphelionException if the Spark job fails (with the tasks' cause) or the replicas diverge
   */
  public static TrainingResult fit(JavaRDD<LabeledRow> data, Sequential model, TrainingConfig config, ExchangeSettings exchange,
      Examples eval) {
    return fit(data, model, config, exchange, eval, null, null);
  }

  /**
   * Trains {@code model} on {@code data} with checkpoints, so that a lost task costs only the
   * steps since the last checkpoint: when a task dies, Spark re-runs the whole barrier stage
   * (up to {@code spark.stage.maxConsecutiveAttempts} times; in {@code local[N, F]} mode each task
   * may fail {@code F - 1} times), and every task of the new attempt resumes from the newest
   * checkpoint that all tasks completed (they agree on it with one {@code allGather}). The run
   * ends with the model of an uninterrupted one. The checkpoint directory must be shared by every
   * executor (all on one machine, or a network file system).
   *
   * @param data the training rows; its partitions are the workers
   * @param model the model; its parameters are the starting point of every worker
   * @param config the hyper-parameters
   * @param exchange float32 or compressed gradients
   * @param eval examples worker 0 evaluates after each epoch, or null
   * @param checkpoints where and how often the tasks checkpoint, or null for none
   * @param listener called in every task after each step, or null
   * @return the trained model and every worker's statistics (of the last attempt)
   * @throws AphelionException if the Spark job fails (with the tasks' cause) or the replicas diverge
   */
  public static TrainingResult fit(JavaRDD<LabeledRow> data, Sequential model, TrainingConfig config, ExchangeSettings exchange,
      Examples eval, CheckpointSettings checkpoints, StepListener listener) {
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(exchange, "exchange");
    if (!data.context().getConf().contains(BARRIER_TIMEOUT)) {
      // Spark's default is a year: a lost task or driver would leave the others waiting
      throw new ConfigException("set " + BARRIER_TIMEOUT + " (seconds) in the SparkConf, so that a lost task or driver fails "
          + "the stage instead of leaving the other tasks waiting for Spark's default of one year");
    }
    ClassTag<WorkerResult> tag = ClassTag$.MODULE$.apply(WorkerResult.class);
    RDD<WorkerResult> stage = data.rdd().barrier().mapPartitions(new TrainPartition(model, config, exchange, eval, checkpoints, listener), false, tag);
    List<WorkerResult> results;
    try {
      // through a shuffle, so that the barrier stage is a shuffle-map stage: Spark re-runs a
      // failed barrier shuffle-map stage, but aborts the job when a barrier result stage fails
      results = new ArrayList<>(new JavaRDD<>(stage, tag).repartition(1).collect());
    } catch (Exception e) { // collect() throws the checked SparkException without declaring it
      throw new AphelionException(ErrorCode.BACKEND, "the Spark training job failed: " + rootCause(e), e);
    }
    if (results.size() != data.getNumPartitions()) {
      throw new AphelionException(ErrorCode.BACKEND, "the Spark job returned " + results.size() + " worker results for "
          + data.getNumPartitions() + " partitions");
    }
    return TrainingResult.assemble(model, results);
  }

  private static String rootCause(Throwable e) {
    Throwable root = e;
    for (Throwable t = e; t != null; t = t.getCause()) {
      root = t;
      if (t instanceof AphelionException) {
        break;
      }
    }
    return root instanceof SparkException ? root.getMessage() : root.toString();
  }

  /** The barrier task: one data-parallel worker on its partition. */
  private static final class TrainPartition
      extends AbstractFunction1<scala.collection.Iterator<LabeledRow>, scala.collection.Iterator<WorkerResult>>
      implements Serializable {
    private static final long serialVersionUID = 1L;
    private final Sequential model;
    private final TrainingConfig config;
    private final ExchangeSettings exchange;
    private final Examples eval;
    private final CheckpointSettings checkpoints;
    private final StepListener listener;

    TrainPartition(Sequential model, TrainingConfig config, ExchangeSettings exchange, Examples eval,
        CheckpointSettings checkpoints, StepListener listener) {
      this.model = model;
      this.config = config;
      this.exchange = exchange;
      this.eval = eval;
      this.checkpoints = checkpoints;
      this.listener = listener;
    }

    @Override
    public scala.collection.Iterator<WorkerResult> apply(scala.collection.Iterator<LabeledRow> rows) {
      BarrierTaskContext context = BarrierTaskContext.get();
      List<LabeledRow> list = new ArrayList<>();
      CollectionConverters.asJava(rows).forEachRemaining(list::add);
      Examples partition = LabeledRow.toExamples(list, model.inFeatures(), model.outFeatures());
      int tasks = context.getTaskInfos().length;
      long latest = checkpoints == null ? -1 : checkpoints.latestComplete(tasks);
      // partition sizes, and the checkpoint to resume from: the oldest any task sees as complete
      // (a file written by a dying attempt may be visible to some tasks only)
      String[] counts = context.allGather(partition.count() + "," + latest);
      int[] sizes = new int[counts.length];
      long resume = Long.MAX_VALUE;
      for (int i = 0; i < counts.length; i++) {
        String[] f = counts[i].split(",", 2);
        sizes[i] = Integer.parseInt(f[0]);
        resume = Math.min(resume, Long.parseLong(f[1]));
      }
      int rank = context.partitionId();
      Sequential replica = model.copy();
      try (BarrierExchange ex = new BarrierExchange(context, replica.parameterCount(), exchange)) {
        DataParallelWorker worker = new DataParallelWorker(replica, partition, config, ex, config.stepsPerEpoch(sizes))
            .checkpoints(checkpoints).listener(listener);
        WorkerResult result = worker.run(rank == 0 ? eval : null, resume);
        return CollectionConverters.asScala(List.of(rank == 0 ? result : result.withoutParameters()).iterator());
      }
    }
  }
}
