package dev.aphelion.tritter.kernel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Splits a kernel's independent work units (row blocks, usually) across a fixed set of threads.
 *
 * <p>The caller's thread always takes part, so a pool of parallelism {@code p} owns {@code p - 1}
 * daemon worker threads; nothing is created per call. Units are handed out in chunks from a shared
 * counter, each a share of what is left (guided, never below the call's smallest chunk), so a
 * thread slowed down by other processes on a shared machine simply takes fewer chunks, a worker
 * that has not started yet leaves its share to the others, and the threads finish close together.
 *
 * <p>Dispatch is built for back-to-back kernel calls of a few hundred microseconds (a decode step
 * is hundreds of GEMVs): a worker that finished a call spins for {@value #SPIN_NANOS} ns waiting for
 * the next one before it parks, and the caller spins until the last chunk is done, so neither side
 * pays the operating system's wake-up latency (tens of microseconds in a virtual machine) on every
 * call. One call runs at a time per pool; a call made while the pool is busy (from another thread,
 * or from inside a task) runs on its caller's thread alone.
 *
 * <p>{@link #shared()} uses every available processor unless configured ({@link
 * #configureShared}, {@code -Daphelion.threads}); create others with {@link #create(int)} and
 * {@link #close()} them when done.
 */
public final class RowPool implements AutoCloseable {

  /** How long an idle worker spins for the next call before it parks. */
  private static final long SPIN_NANOS = 200_000;
  /** How long the caller spins for the last chunks before it starts yielding its core. */
  private static final long CALLER_SPIN_NANOS = 50_000;

  private static final AtomicInteger POOL_IDS = new AtomicInteger();

  private final int parallelism;
  private final Worker[] workers;
  private final ReentrantLock dispatch = new ReentrantLock();
  private volatile Job current;
  private volatile boolean closed;
  private long generation;

  private RowPool(int parallelism) {
    this.parallelism = parallelism;
    this.workers = new Worker[parallelism - 1];
    int id = POOL_IDS.incrementAndGet();
    for (int i = 0; i < workers.length; i++) {
      workers[i] = new Worker();
      Thread t = new Thread(workers[i], "aphelion-kernels-" + id + "-" + (i + 1));
      t.setDaemon(true);
      workers[i].thread = t;
      t.start();
    }
  }

  /** System property that sets {@link #shared()}'s parallelism (default: available processors). */
  public static final String THREADS_PROPERTY = "aphelion.threads";

  /** Parallelism asked for through {@link #configureShared}, 0 if none; guarded by the class lock. */
  private static int requested;
  /** Whether {@link Shared} has been created; guarded by the class lock. */
  private static boolean sharedCreated;

  private static final class Shared {
    static final RowPool INSTANCE = new RowPool(sharedParallelism());
  }

  private static synchronized int sharedParallelism() {
    sharedCreated = true;
    if (requested > 0) {
      return requested;
    }
    String p = System.getProperty(THREADS_PROPERTY);
    if (p == null || p.isBlank()) {
      return Runtime.getRuntime().availableProcessors();
    }
    try {
      int n = Integer.parseInt(p.trim());
      if (n >= 1) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("-D" + THREADS_PROPERTY + " must be a positive integer, got '" + p + "'");
  }

  /**
   * The process-wide pool: {@link #configureShared} threads if it was called, else {@code
   * -Daphelion.threads}, else one per available processor (the caller's included).
   */
  public static RowPool shared() {
    return Shared.INSTANCE;
  }

  /**
   * Sets the parallelism of {@link #shared()} before its first use (a command line's {@code
   * --threads}).
   *
   * @param parallelism threads per call, the caller's included
   * @throws IllegalArgumentException if {@code parallelism < 1}
   * @throws IllegalStateException if the shared pool already exists with another parallelism
   */
  public static synchronized void configureShared(int parallelism) {
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism must be at least 1, got " + parallelism);
    }
    if (sharedCreated) {
      if (Shared.INSTANCE.parallelism != parallelism) {
        throw new IllegalStateException("the shared pool already runs with " + Shared.INSTANCE.parallelism
            + " threads; configure it before the first kernel call");
      }
      return;
    }
    requested = parallelism;
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
    if (threads <= 1 || closed || !dispatch.tryLock()) {
      task.run(0, units);
      return;
    }
    try {
      Job job = new Job(++generation, task, units, Math.max(1, minChunk), threads);
      current = job;
      for (Worker w : workers) {
        if (w.parked) {
          LockSupport.unpark(w.thread);
        }
      }
      job.work();
      job.awaitDone();
      current = null;
      Throwable failure = job.failure.get();
      if (failure instanceof RuntimeException re) {
        throw re;
      }
      if (failure instanceof Error err) {
        throw err;
      }
      if (failure != null) {
        throw new IllegalStateException("kernel task failed", failure);
      }
    } finally {
      dispatch.unlock();
    }
  }

  /**
   * Calls this pool has handed to its worker threads since it was created (calls that ran on their
   * caller's thread alone do not count): a diagnostic, for example hand-offs per decoded token.
   *
   * @return the count
   */
  public long handOffs() {
    dispatch.lock();
    try {
      return generation;
    } finally {
      dispatch.unlock();
    }
  }

  /** One call: the units, a claim counter and a count of finished units. */
  private static final class Job {
    final long generation;
    final RangeTask task;
    final int units;
    final int minChunk;
    /** Divides the units left into the next claim: two claims per thread of what is left. */
    final int split;
    /** Workers that may still join (the call's thread count minus the caller). */
    final AtomicInteger seats;
    final AtomicInteger next = new AtomicInteger();
    final AtomicInteger done = new AtomicInteger();
    final AtomicReference<Throwable> failure = new AtomicReference<>();

    Job(long generation, RangeTask task, int units, int minChunk, int threads) {
      this.generation = generation;
      this.task = task;
      this.units = units;
      this.minChunk = minChunk;
      this.split = 2 * threads;
      this.seats = new AtomicInteger(threads - 1);
    }

    void work() {
      int from;
      while ((from = next.get()) < units) {
        // Guided claims: large while much is left (few atomics), down to minChunk at the end, so
        // that the threads finish within one small chunk of each other even when one of them is
        // slowed by the machine.
        int to = Math.min(units, from + Math.max(minChunk, (units - from) / split));
        if (!next.compareAndSet(from, to)) {
          continue;
        }
        try {
          if (failure.get() == null) {
            task.run(from, to);
          }
        } catch (Throwable t) {
          Throwable first = failure.compareAndExchange(null, t);
          if (first != null && first != t) {
            first.addSuppressed(t);
          }
        } finally {
          done.addAndGet(to - from);
        }
      }
    }

    void awaitDone() {
      long start = System.nanoTime();
      while (done.get() < units) {
        if (System.nanoTime() - start < CALLER_SPIN_NANOS) {
          Thread.onSpinWait();
        } else {
          Thread.yield();
        }
      }
    }
  }

  /** A worker thread: runs the chunks of each new call, spins a while, then parks. */
  private final class Worker implements Runnable {
    Thread thread;
    volatile boolean parked;

    @Override
    public void run() {
      long seen = 0;
      long idleSince = System.nanoTime();
      while (!closed) {
        Job job = current;
        if (job != null && job.generation != seen) {
          seen = job.generation;
          if (job.seats.getAndDecrement() > 0) {
            job.work();
          }
          idleSince = System.nanoTime();
        } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
          Thread.onSpinWait();
        } else {
          parked = true;
          // re-check after announcing: a caller that published a job before seeing parked == true
          // is caught here, one that sees it unparks us
          Job again = current;
          if (!closed && (again == null || again.generation == seen)) {
            LockSupport.park(this);
          }
          parked = false;
          idleSince = System.nanoTime();
        }
      }
    }
  }

  /** Stops the worker threads; the shared pool ignores this. */
  @Override
  public void close() {
    if (this != Shared.INSTANCE && !closed) {
      closed = true;
      for (Worker w : workers) {
        LockSupport.unpark(w.thread);
      }
    }
  }

  @Override
  public String toString() {
    return "RowPool[parallelism=" + parallelism + "]";
  }
}
