package dev.aphelion.spark;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.train.DataParallelWorker;
import dev.aphelion.tritter.train.ExchangeSettings;
import dev.aphelion.tritter.train.Examples;
import dev.aphelion.tritter.train.Sequential;
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
 * <p>Set {@code spark.barrier.sync.timeout} (seconds) so that a lost task fails the stage instead
 * of blocking the others for Spark's default of one year.
 */
public final class SparkTrainer {
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
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(exchange, "exchange");
    ClassTag<WorkerResult> tag = ClassTag$.MODULE$.apply(WorkerResult.class);
    RDD<WorkerResult> stage = data.rdd().barrier().mapPartitions(new TrainPartition(model, config, exchange, eval), false, tag);
    List<WorkerResult> results;
    try {
      results = new ArrayList<>(new JavaRDD<>(stage, tag).collect());
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

    TrainPartition(Sequential model, TrainingConfig config, ExchangeSettings exchange, Examples eval) {
      this.model = model;
      this.config = config;
      this.exchange = exchange;
      this.eval = eval;
    }

    @Override
    public scala.collection.Iterator<WorkerResult> apply(scala.collection.Iterator<LabeledRow> rows) {
      BarrierTaskContext context = BarrierTaskContext.get();
      List<LabeledRow> list = new ArrayList<>();
      CollectionConverters.asJava(rows).forEachRemaining(list::add);
      Examples partition = LabeledRow.toExamples(list, model.inFeatures(), model.outFeatures());
      String[] counts = context.allGather(Integer.toString(partition.count()));
      int[] sizes = new int[counts.length];
      for (int i = 0; i < counts.length; i++) {
        sizes[i] = Integer.parseInt(counts[i]);
      }
      int rank = context.partitionId();
      Sequential replica = model.copy();
      try (BarrierExchange ex = new BarrierExchange(context, replica.parameterCount(), exchange)) {
        DataParallelWorker worker = new DataParallelWorker(replica, partition, config, ex, config.stepsPerEpoch(sizes));
        WorkerResult result = worker.run(rank == 0 ? eval : null);
        return CollectionConverters.asScala(List.of(rank == 0 ? result : result.withoutParameters()).iterator());
      }
    }
  }
}
