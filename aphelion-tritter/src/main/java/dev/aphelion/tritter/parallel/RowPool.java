package dev.aphelion.tritter.parallel;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Splits a kernel's independent work units (row blocks, usually) across a fixed set of threads.
 *
 * <p>The caller's thread always takes part, so a pool of parallelism {@code p} owns {@code p - 1}
 * daemon worker threads of a dedicated {@link ForkJoinPool}; nothing is created per call. Units are
 * handed out in chunks from a shared counter, so a thread slowed down by other processes on a
 * shared machine simply takes fewer chunks.
 *
 * <p>{@link #shared()} uses every available processor; create others with {@link #create(int)} and
 * {@link #close()} them when done.
 */
public final class RowPool implements AutoCloseable {

  private static final AtomicInteger POOL_IDS = new AtomicInteger();

  private final int parallelism;
  private final ForkJoinPool pool; // null when parallelism == 1

  private RowPool(int parallelism) {
    this.parallelism = parallelism;
    if (parallelism == 1) {
      this.pool = null;
    } else {
      int id = POOL_IDS.incrementAndGet();
      this.pool = new ForkJoinPool(
          parallelism - 1,
          p -> {
            ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setDaemon(true);
            t.setName("aphelion-kernels-" + id + "-" + t.getPoolIndex());
            return t;
          },
          null,
          false);
    }
  }

  private static final class Shared {
    static final RowPool INSTANCE = new RowPool(Runtime.getRuntime().availableProcessors());
  }

  /** The process-wide pool with one thread per available processor (the caller's included). */
  public static RowPool shared() {
    return Shared.INSTANCE;
  }

  /**
   * Creates a pool.
   *
   * @param parallelism threads that work on one call, the caller's included; 1 runs everything on
   *     the caller's thread
   * @return the pool; close it when done
   * @throws IllegalArgumentException if {@code parallelism < 1}
   */
  public static RowPool create(int parallelism) {
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism must be at least 1, got " + parallelism);
    }
    return new RowPool(parallelism);
  }

  /** Threads that work on one call, the caller's included. */
  public int parallelism() {
    return parallelism;
  }

  /** Work on a half-open range of units {@code [from, to)}. */
  @FunctionalInterface
  public interface RangeTask {
    /**
     * Processes units {@code from} (inclusive) to {@code to} (exclusive).
     *
     * @param from first unit
     * @param to one past the last unit
     */
    void run(int from, int to);
  }

  /**
   * Runs {@code task} over units {@code [0, units)}, in chunks of at least {@code minChunk} units,
   * and returns when all are done. Small jobs (fewer than {@code 2 * minChunk} units) run on the
   * caller's thread only.
   *
   * @param units number of work units
   * @param minChunk the smallest chunk worth handing to another thread
   * @param task the work; called concurrently on disjoint ranges
   * @throws RuntimeException whatever a task threw (the first one, others suppressed)
   */
  public void forRange(int units, int minChunk, RangeTask task) {
    if (units <= 0) {
      return;
    }
    int threads = Math.min(parallelism, units / Math.max(1, minChunk));
    if (threads <= 1 || pool == null) {
      task.run(0, units);
      return;
    }
    // About 4 chunks per thread balances load on a contended machine without much overhead.
    int chunk = Math.max(Math.max(1, minChunk), units / (threads * 4));
    AtomicInteger next = new AtomicInteger();
    Runnable worker = () -> {
      int from;
      while ((from = next.getAndAdd(chunk)) < units) {
        task.run(from, Math.min(units, from + chunk));
      }
    };
    @SuppressWarnings("unchecked")
    ForkJoinTask<?>[] forked = new ForkJoinTask<?>[threads - 1];
    for (int i = 0; i < forked.length; i++) {
      forked[i] = pool.submit(worker);
    }
    Throwable failure = null;
    try {
      worker.run();
    } catch (Throwable t) {
      failure = t;
    }
    for (ForkJoinTask<?> f : forked) {
      try {
        f.get();
      } catch (ExecutionException e) {
        failure = addFailure(failure, e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        failure = addFailure(failure, e);
      }
    }
    if (failure instanceof RuntimeException re) {
      throw re;
    }
    if (failure instanceof Error err) {
      throw err;
    }
    if (failure != null) {
      throw new IllegalStateException("kernel task failed", failure);
    }
  }

  private static Throwable addFailure(Throwable first, Throwable next) {
    if (first == null) {
      return next;
    }
    first.addSuppressed(next);
    return first;
  }

  /** Shuts the worker threads down; the shared pool ignores this. */
  @Override
  public void close() {
    if (pool != null && this != Shared.INSTANCE) {
      pool.shutdown();
    }
  }

  @Override
  public String toString() {
    return "RowPool[parallelism=" + parallelism + "]";
  }
}
