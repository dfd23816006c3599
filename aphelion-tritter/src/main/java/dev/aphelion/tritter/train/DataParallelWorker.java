package dev.aphelion.tritter.train;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.SerializationException;
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
  private CheckpointSettings checkpoints;
  private StepListener listener;

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
   * Checkpoints this worker's state with the given settings (and resumes from them in
   * {@link #run(Examples, long)}).
   *
   * @param settings the checkpoint settings, or null for none
   * @return this worker
   */
  public DataParallelWorker checkpoints(CheckpointSettings settings) {
    this.checkpoints = settings;
    return this;
  }

  /**
   * Calls {@code l} after every step.
   *
   * @param l the listener, or null for none
   * @return this worker
   */
  public DataParallelWorker listener(StepListener l) {
    this.listener = l;
    return this;
  }

  /**
   * Runs all epochs from the start.
   *
   * @param eval examples to evaluate after each epoch, or null
   * @return the statistics and final parameters
   * @throws AphelionException if a gradient is not finite without loss scaling, or the exchange fails
   */
  public WorkerResult run(Examples eval) {
    return run(eval, -1);
  }

  /**
   * Runs the remaining epochs, resuming from this worker's checkpoint after {@code resumeSteps}
   * steps (all workers must pass the same step: {@link CheckpointSettings#latestComplete}).
   * Resumed, the run ends with the parameters of the uninterrupted run, bit for bit where the
   * kernels are deterministic ({@code -Daphelion.kernels=scalar}). The exchange statistics and
   * times count only the steps run by this call.
   *
   * @param eval examples to evaluate after each epoch, or null
   * @param resumeSteps the steps done at the checkpoint to resume from, or -1 to start afresh
   * @return the statistics and final parameters
   * @throws AphelionException if a gradient is not finite without loss scaling, or the exchange fails
   * @throws SerializationException if the checkpoint file is corrupt
   * @throws ConfigException if it was written by another job (model, data, settings or workers)
   */
  public WorkerResult run(Examples eval, long resumeSteps) {
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
    double lossSum = 0;
    long correct = 0;
    long seen = 0;
    long configHash = configHash();
    long dataHash = dataHash();
    if (resumeSteps >= 0) {
      if (checkpoints == null) {
        throw new ConfigException("resuming from step " + resumeSteps + " needs checkpoint settings");
      }
      if (resumeSteps > total) {
        throw new ConfigException("cannot resume from step " + resumeSteps + ": the run has " + total + " steps");
      }
      TrainingCheckpoint c = checkpoints.read(resumeSteps, rank, exchange.workers());
      restore(c, configHash, dataHash);
      step = c.steps();
      skipped = c.skipped();
      lossSum = c.lossSum();
      correct = c.correct();
      seen = c.seen();
      history.addAll(c.history());
      // the shuffle state is a function of the epochs begun: replay them (O(n) each)
      long begun = step / stepsPerEpoch + (step % stepsPerEpoch == 0 ? 0 : 1);
      for (long e = 0; e < begun; e++) {
        shuffle(order, rnd);
      }
    }
    long t0 = System.nanoTime();
    long first = step;
    long e0 = System.nanoTime();
    while (step < total) {
      int s = (int) (step % stepsPerEpoch);
      if (s == 0) {
        shuffle(order, rnd);
        e0 = System.nanoTime();
        lossSum = 0;
        correct = 0;
        seen = 0;
      }
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
      if (step % stepsPerEpoch == 0) {
        double seconds = (System.nanoTime() - e0) / 1e9;
        long evalCorrect = 0;
        long evalCount = 0;
        if (eval != null) {
          SoftmaxCrossEntropy.Loss l = model.evaluate(eval);
          evalCorrect = l.correct();
          evalCount = l.rows();
        }
        history.add(new EpochStats((int) (step / stepsPerEpoch), lossSum, correct, seen, evalCorrect, evalCount, seconds));
      }
      if (checkpoints != null && step % checkpoints.everySteps() == 0 && step < total) {
        checkpoints.write(new TrainingCheckpoint(rank, exchange.workers(), model.parameterCount(), configHash, dataHash, step,
            model.parameters().clone(), optimizer.state(), scaler == null ? null
                : new TrainingCheckpoint.ScalerState(scaler.scale(), scaler.cleanSteps(), scaler.skippedSteps()),
            exchange.state(), skipped, lossSum, correct, seen, List.copyOf(history)));
      }
      if (listener != null) {
        listener.afterStep(rank, step);
      }
    }
    long nanos = System.nanoTime() - t0;
    float[] p = model.parameters().clone();
    return new WorkerResult(rank, p, Arrays.hashCode(p), List.copyOf(history), exchange.stats(), step - first, skipped, nanos);
  }

  private void restore(TrainingCheckpoint c, long configHash, long dataHash) {
    String what = "checkpoint of worker " + c.rank() + " at step " + c.steps() + " in " + checkpoints.directory();
    if (c.rank() != exchange.rank() || c.workers() != exchange.workers()) {
      throw new ConfigException(what + " was written by worker " + c.rank() + " of " + c.workers() + "; this is worker "
          + exchange.rank() + " of " + exchange.workers());
    }
    if (c.parameterCount() != model.parameterCount()) {
      throw new ConfigException(what + " holds " + c.parameterCount() + " parameters; this model has " + model.parameterCount());
    }
    if (c.configHash() != configHash) {
      throw new ConfigException(what + " was written with another model layout, training config or exchange settings "
          + "(config hash " + Long.toHexString(c.configHash()) + ", this job's " + Long.toHexString(configHash) + ")");
    }
    if (c.dataHash() != dataHash) {
      throw new ConfigException(what + " was written for other training data in this worker's partition (data hash "
          + Long.toHexString(c.dataHash()) + ", this partition's " + Long.toHexString(dataHash) + ")");
    }
    if ((c.scaler() == null) != (scaler == null)) {
      throw new ConfigException(what + (scaler == null ? " has" : " has no") + " loss scaler state");
    }
    model.load(c.parameters());
    try {
      optimizer.restore(c.optimizer());
    } catch (ShapeException e) {
      throw new ConfigException(what + ": " + e.getMessage(), e);
    }
    if (scaler != null) {
      scaler.restore(c.scaler().scale(), c.scaler().cleanSteps(), c.scaler().skipped());
    }
    exchange.restore(c.exchange());
  }

  /** What a checkpoint must agree with: the model's layout, the settings, the steps per epoch. */
  private long configHash() {
    StringBuilder b = new StringBuilder();
    for (TrainableLayer l : model.layers()) {
      b.append(l.getClass().getSimpleName()).append(':').append(l.parameterCount()).append(';');
    }
    b.append(config.withExchangeTimeout(java.time.Duration.ofSeconds(1))).append(';').append(stepsPerEpoch).append(';');
    if (exchange instanceof MessageExchange m) {
      b.append(m.settings());
    } else {
      b.append(exchange.getClass().getName());
    }
    return fnv(b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8), 0xcbf29ce484222325L);
  }

  private long dataHash() {
    long h = 0xcbf29ce484222325L;
    for (float f : data.features()) {
      h = (h ^ Float.floatToRawIntBits(f)) * 0x100000001b3L;
    }
    for (int l : data.labels()) {
      h = (h ^ l) * 0x100000001b3L;
    }
    return (h ^ data.count()) * 0x100000001b3L;
  }

  private static long fnv(byte[] bytes, long h) {
    for (byte x : bytes) {
      h = (h ^ (x & 0xff)) * 0x100000001b3L;
    }
    return h;
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
