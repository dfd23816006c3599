package dev.aphelion.tritter.train;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.error.ShapeException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * The training loop of one data-parallel worker, the same for every transport: threads
 * ({@link DataParallelTrainer}) and Spark barrier tasks run exactly this.
 *
 * <p>Each epoch the worker shuffles its own partition (seeded by the run's seed and its rank);
 * step {@code s} takes positions {@code [s·b, (s+1)·b)} of it, {@code b = config.localBatch(W)},
 * which is short or empty near the end of a smaller partition. The worker computes the mean
 * gradient of its rows (in micro-batches summed by a {@link GradientAccumulator}, the loss scaled
 * by a {@link LossScaler} when configured), and the {@link GradientExchange} turns it into the
 * example-weighted mean over all workers; the mean is clipped, and the worker's own optimizer
 * applies it with the scheduled learning rate. Every worker starts from the same parameters and
 * applies the same averaged gradients, so all replicas stay bit-identical without ever sending
 * parameters.
 */
public final class DataParallelWorker {
  private final Sequential model;
  private final Examples data;
  private final TrainingConfig config;
  private final GradientExchange exchange;
  private final int stepsPerEpoch;
  private final Optimizer optimizer;
  private final LossScaler scaler;
  private final GradientAccumulator accumulator;

  /**
   * Creates the worker.
   *
   * @param model this worker's replica, trained in place
   * @param partition this worker's training examples (may be empty)
   * @param config the hyper-parameters (the same on every worker)
   * @param exchange this worker's side of the exchange
   * @param stepsPerEpoch steps per epoch, the same on every worker ({@link TrainingConfig#stepsPerEpoch})
   * @throws ShapeException if the data does not fit the model or the exchange the gradient
   */
  public DataParallelWorker(Sequential model, Examples partition, TrainingConfig config, GradientExchange exchange,
      int stepsPerEpoch) {
    this.model = Objects.requireNonNull(model, "model");
    this.data = Objects.requireNonNull(partition, "partition");
    this.config = Objects.requireNonNull(config, "config");
    this.exchange = Objects.requireNonNull(exchange, "exchange");
    model.checkData(partition);
    if (stepsPerEpoch < 1) {
      throw new ShapeException("steps per epoch must be at least 1, got " + stepsPerEpoch);
    }
    this.stepsPerEpoch = stepsPerEpoch;
    this.optimizer = config.optimizer().create(model.parameterCount());
    this.scaler = config.lossScaling() ? new LossScaler() : null;
    this.accumulator = new GradientAccumulator(model.parameterCount());
  }

  /**
   * Runs all epochs.
   *
   * @param eval examples to evaluate after each epoch, or null
   * @return the statistics and final parameters
   * @throws AphelionException if a gradient is not finite without loss scaling, or the exchange fails
   */
  public WorkerResult run(Examples eval) {
    int rank = exchange.rank();
    int lb = config.localBatch(exchange.workers());
    long total = (long) stepsPerEpoch * config.epochs();
    int[] order = new int[data.count()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    SplittableRandom rnd = new SplittableRandom(config.seed() * 0x9E3779B97F4A7C15L + rank);
    float[] local = new float[model.parameterCount()];
    float[] averaged = new float[model.parameterCount()];
    List<EpochStats> history = new ArrayList<>();
    long step = 0;
    long skipped = 0;
    long t0 = System.nanoTime();
    for (int epoch = 1; epoch <= config.epochs(); epoch++) {
      shuffle(order, rnd);
      long e0 = System.nanoTime();
      double lossSum = 0;
      long correct = 0;
      long seen = 0;
      for (int s = 0; s < stepsPerEpoch; s++) {
        int from = Math.min(data.count(), s * lb);
        int to = Math.min(data.count(), from + lb);
        SoftmaxCrossEntropy.Loss loss = localGradient(order, from, to, local);
        lossSum += loss.lossSum();
        correct += loss.correct();
        seen += loss.rows();
        GradientExchange.Result r = exchange.allReduce(step, local, to - from, averaged);
        if (!r.finite()) {
          if (scaler == null) {
            throw new AphelionException(ErrorCode.VALIDATION, "step " + step + ": a worker's gradient is not finite; "
                + "turn on loss scaling or lower the learning rate (" + config.schedule() + ")");
          }
          scaler.update(true);
          skipped++;
        } else {
          if (scaler != null) {
            scaler.update(false);
          }
          if (config.clipNorm() > 0) {
            GradientClipping.clipByGlobalNorm(averaged, config.clipNorm());
          }
          optimizer.step(model.parameters(), averaged, config.schedule().at(step, total));
        }
        step++;
      }
      double seconds = (System.nanoTime() - e0) / 1e9;
      long evalCorrect = 0;
      long evalCount = 0;
      if (eval != null) {
        SoftmaxCrossEntropy.Loss l = model.evaluate(eval);
        evalCorrect = l.correct();
        evalCount = l.rows();
      }
      history.add(new EpochStats(epoch, lossSum, correct, seen, evalCorrect, evalCount, seconds));
    }
    long nanos = System.nanoTime() - t0;
    float[] p = model.parameters().clone();
    return new WorkerResult(rank, p, Arrays.hashCode(p), List.copyOf(history), exchange.stats(), step, skipped, nanos);
  }

  /** Writes this worker's mean gradient over rows {@code order[from..to)} (zeros when empty). */
  private SoftmaxCrossEntropy.Loss localGradient(int[] order, int from, int to, float[] out) {
    int rows = to - from;
    if (rows == 0) {
      Arrays.fill(out, 0f);
      return new SoftmaxCrossEntropy.Loss(0, 0, 0);
    }
    int width = data.width();
    int k = model.outFeatures();
    int mb = config.microBatch() == 0 ? rows : config.microBatch();
    float scale = scaler == null ? 1f : (float) scaler.scale();
    double lossSum = 0;
    int correct = 0;
    for (int m = from; m < to; m += mb) {
      int r = Math.min(mb, to - m);
      float[] x = new float[r * width];
      int[] y = new int[r];
      for (int i = 0; i < r; i++) {
        int row = order[m + i];
        System.arraycopy(data.features(), row * width, x, i * width, width);
        y[i] = data.labels()[row];
      }
      model.zeroGradients();
      float[] logits = model.forward(x, r);
      float[] dl = new float[r * k];
      SoftmaxCrossEntropy.Loss l = SoftmaxCrossEntropy.compute(logits, r, k, y, 0, dl, scale);
      lossSum += l.lossSum();
      correct += l.correct();
      model.backward(dl, r);
      accumulator.add(model.gradients());
    }
    // the accumulator holds one summed gradient per micro-batch: its mean times (micro-batches / rows) is the per-example mean
    int micro = accumulator.count();
    float[] mean = accumulator.getAndReset();
    float f = (float) micro / rows;
    for (int i = 0; i < out.length; i++) {
      out[i] = mean[i] * f;
    }
    if (scaler != null) {
      scaler.unscale(out);
    }
    return new SoftmaxCrossEntropy.Loss(lossSum, correct, rows);
  }

  private static void shuffle(int[] a, SplittableRandom rnd) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
