package dev.aphelion.examples.fashion.nn;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.examples.fashion.LabeledImages;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Synchronous data-parallel training of an {@link Mlp} on worker threads.
 *
 * <p>Each step the minibatch is cut into one contiguous shard per worker; every worker runs the
 * forward and backward pass on its shard with its own buffers and hands its shard's mean gradient
 * to the
 * {@link GradientExchange} (which may compress it, with error feedback); the combined gradient
 * then drives one Adam step on the shared parameters, and the effective (ternary) weights are
 * re-derived for the next step. Workers only read the parameters, so no locks are needed: the
 * executor's hand-over gives the happens-before edges.
 */
public final class DataParallelTrainer implements AutoCloseable {
  private final Mlp mlp;
  private final TrainOptions options;
  private final GradientExchange exchange;
  private final ExecutorService pool;
  private final Worker[] workers;
  private final float[][] grads;
  private final float[] combined;
  private final Adam adam;
  private final Mlp.Snapshot snapshot;
  private final int evalRows;

  /**
   * Creates a trainer; it owns worker threads until {@link #close()}.
   *
   * @param mlp the model, trained in place
   * @param options hyper-parameters
   * @param exchange how the workers combine gradients (its worker count must be
   *     {@code options.workers()})
   */
  public DataParallelTrainer(Mlp mlp, TrainOptions options, GradientExchange exchange) {
    this.mlp = mlp;
    this.options = options;
    this.exchange = exchange;
    int n = options.workers();
    int shard = (options.batchSize() + n - 1) / n;
    this.evalRows = Math.max(shard, 256);
    this.workers = new Worker[n];
    this.grads = new float[n][mlp.layout().parameterCount()];
    for (int w = 0; w < n; w++) {
      workers[w] = new Worker(mlp.layout(), evalRows);
    }
    this.combined = new float[mlp.layout().parameterCount()];
    this.adam = new Adam(combined.length, 0.9f, 0.999f, 1e-8f, options.weightDecay());
    this.snapshot = mlp.snapshot();
    this.pool = Executors.newFixedThreadPool(n, r -> {
      Thread t = new Thread(r, "aphelion-trainer");
      t.setDaemon(true);
      return t;
    });
  }

  /** The model being trained. */
  public Mlp model() {
    return mlp;
  }

  /** The gradient exchange, with its byte counts. */
  public GradientExchange exchange() {
    return exchange;
  }

  /**
   * Trains for {@code options.epochs()} epochs, evaluating on {@code test} after each.
   *
   * @param train the training examples
   * @param test the evaluation examples
   * @param listener progress callbacks
   * @return one entry per epoch
   */
  public List<EpochStats> fit(LabeledImages train, LabeledImages test, TrainingListener listener) {
    checkInputs(train);
    checkInputs(test);
    int batch = options.batchSize();
    if (train.count() < batch) {
      throw new ConfigException(
          "batch size " + batch + " is larger than the training set (" + train.count() + ")");
    }
    int stepsPerEpoch = train.count() / batch;
    int totalSteps = stepsPerEpoch * options.epochs();
    int[] order = new int[train.count()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    SplittableRandom rnd = new SplittableRandom(options.seed() ^ 0x5DEECE66DL);
    List<EpochStats> history = new ArrayList<>();
    int globalStep = 0;
    for (int epoch = 1; epoch <= options.epochs(); epoch++) {
      shuffle(order, rnd);
      long t0 = System.nanoTime();
      double lossSum = 0;
      long correct = 0;
      long seen = 0;
      for (int step = 0; step < stepsPerEpoch; step++) {
        Worker.Result r = step(train, order, step * batch, batch);
        adam.step(mlp.parameters(), combined, options.learningRateAt(globalStep++, totalSteps));
        snapshot.refresh(mlp);
        lossSum += r.lossSum();
        correct += r.correct();
        seen += r.count();
        listener.onStep(epoch, step + 1, stepsPerEpoch, lossSum / seen, (double) correct / seen);
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      Worker.Result eval = evaluate(test);
      EpochStats stats = new EpochStats(
          epoch, lossSum / seen, (double) correct / seen,
          eval.lossSum() / eval.count(), (double) eval.correct() / eval.count(), seconds);
      history.add(stats);
      listener.onEpoch(stats);
    }
    return history;
  }

  private Worker.Result step(LabeledImages data, int[] order, int start, int batch) {
    int n = workers.length;
    List<Callable<Worker.Result>> tasks = new ArrayList<>(n);
    for (int w = 0; w < n; w++) {
      final int id = w;
      final int from = start + (int) ((long) batch * w / n);
      final int to = start + (int) ((long) batch * (w + 1) / n);
      tasks.add(() -> {
        Worker.Result r = workers[id].run(
            mlp, snapshot, data.pixels(), data.labels(), order, from, to, grads[id], 1f / (to - from));
        exchange.send(id, grads[id]);
        return r;
      });
    }
    Worker.Result total = sum(invokeAll(tasks));
    exchange.combine(combined);
    return total;
  }

  /**
   * Loss and accuracy of the current model on a data set, computed by all workers.
   *
   * @param data the examples
   * @return summed loss, correct count and count
   */
  public Worker.Result evaluate(LabeledImages data) {
    checkInputs(data);
    int[] order = new int[data.count()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    int n = workers.length;
    List<Callable<Worker.Result>> tasks = new ArrayList<>(n);
    for (int w = 0; w < n; w++) {
      final int id = w;
      final int from = (int) ((long) data.count() * w / n);
      final int to = (int) ((long) data.count() * (w + 1) / n);
      tasks.add(() -> {
        double loss = 0;
        int correct = 0;
        for (int s = from; s < to; s += evalRows) {
          Worker.Result r = workers[id].run(
              mlp, snapshot, data.pixels(), data.labels(), order, s, Math.min(to, s + evalRows),
              null, 0f);
          loss += r.lossSum();
          correct += r.correct();
        }
        return new Worker.Result(loss, correct, to - from);
      });
    }
    return sum(invokeAll(tasks));
  }

  private List<Worker.Result> invokeAll(List<Callable<Worker.Result>> tasks) {
    try {
      List<Worker.Result> out = new ArrayList<>(tasks.size());
      for (Future<Worker.Result> f : pool.invokeAll(tasks)) {
        out.add(f.get());
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("training interrupted", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException("worker failed: " + e.getCause(), e.getCause());
    }
  }

  private static Worker.Result sum(List<Worker.Result> results) {
    double loss = 0;
    int correct = 0;
    int count = 0;
    for (Worker.Result r : results) {
      loss += r.lossSum();
      correct += r.correct();
      count += r.count();
    }
    return new Worker.Result(loss, correct, count);
  }

  private void checkInputs(LabeledImages data) {
    if (data.features() != mlp.layout().inputs()) {
      throw new ShapeException(
          "examples have " + data.features() + " features, the model takes " + mlp.layout().inputs());
    }
    if (data.classes() != mlp.layout().outputs()) {
      throw new ShapeException(
          "examples have " + data.classes() + " classes, the model has " + mlp.layout().outputs()
              + " outputs");
    }
  }

  private static void shuffle(int[] a, SplittableRandom rnd) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  /** Stops the worker threads. */
  @Override
  public void close() {
    pool.shutdownNow();
  }
}
