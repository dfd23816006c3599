package dev.aphelion.tritter.train;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.error.ShapeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The {@link GradientExchange} between worker threads of one JVM: each step every worker puts its
 * message (the bytes a network transport would carry, {@link MessageExchange}) into a shared slot
 * and waits at a barrier, then decodes all slots. Slots alternate between two sets by call
 * parity (the count sketch makes two calls per step), so one barrier per all-gather suffices. A
 * worker that does not arrive within the timeout, or {@link #abort()}, breaks the barrier for
 * good: every worker waiting now or arriving later fails with an {@link AphelionException} instead
 * of hanging (unlike a {@code CyclicBarrier}'s reset, which would let a late arrival wait on a
 * fresh generation).
 */
public final class InProcessExchange {
  private final int workers;
  private final byte[][][] slots;
  private final Object lock = new Object();
  private int arrived;
  private long generation;
  private String broken;
  private final Duration timeout;
  private final List<Member> members;

  private InProcessExchange(int workers, int dimension, ExchangeSettings settings, Duration timeout) {
    this.workers = workers;
    this.slots = new byte[2][workers][];
    this.timeout = timeout;
    List<Member> list = new ArrayList<>(workers);
    for (int w = 0; w < workers; w++) {
      list.add(new Member(w, dimension, settings));
    }
    this.members = List.copyOf(list);
  }

  /**
   * Creates the exchange of {@code workers} threads.
   *
   * @param workers the number of workers, at least 1
   * @param dimension the gradient length
   * @param settings float32 or compressed
   * @param timeout the longest a worker waits for the others at one step, positive
   * @return the exchange; hand {@link #member(int)} {@code w} to worker {@code w}
   * @throws ShapeException if a count is not positive
   */
  public static InProcessExchange create(int workers, int dimension, ExchangeSettings settings, Duration timeout) {
    if (workers < 1) {
      throw new ShapeException("need at least one worker, got " + workers);
    }
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new ShapeException("the exchange timeout must be positive, got " + timeout);
    }
    return new InProcessExchange(workers, dimension, settings, timeout);
  }

  /**
   * Worker {@code rank}'s side of the exchange; use it from one thread only.
   *
   * @param rank the worker index
   * @return its exchange
   */
  public MessageExchange member(int rank) {
    if (rank < 0 || rank >= workers) {
      throw new ShapeException("rank " + rank + " of " + workers + " workers");
    }
    return members.get(rank);
  }

  /** Breaks the barrier: every worker waiting now, or later, fails (call when a worker has failed). */
  public void abort() {
    breakBarrier("another worker failed");
  }

  private void breakBarrier(String why) {
    synchronized (lock) {
      if (broken == null) {
        broken = why;
      }
      lock.notifyAll();
    }
  }

  /** Waits until all workers have arrived in this generation. */
  private void await(int rank, long step) {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lock) {
      if (broken != null) {
        throw released(step);
      }
      long mine = generation;
      if (++arrived == workers) {
        arrived = 0;
        generation++;
        lock.notifyAll();
        return;
      }
      while (generation == mine) {
        if (broken != null) {
          throw released(step);
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          broken = "worker " + rank + " timed out at step " + step;
          lock.notifyAll();
          throw new AphelionException(ErrorCode.BACKEND, "worker " + rank + " waited more than " + timeout
              + " for the other workers at step " + step, new TimeoutException());
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(lock, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          broken = "worker " + rank + " was interrupted";
          lock.notifyAll();
          throw new AphelionException(ErrorCode.BACKEND, "worker " + rank + " interrupted at step " + step, e);
        }
      }
    }
  }

  private AphelionException released(long step) {
    return new AphelionException(ErrorCode.BACKEND, "step " + step + ": " + broken, new BrokenBarrierException(broken));
  }

  private final class Member extends MessageExchange {
    private long calls;

    Member(int rank, int dimension, ExchangeSettings settings) {
      super(rank, workers, dimension, settings);
    }

    @Override
    protected List<byte[]> allGather(long step, byte[] message) {
      // alternate by call, not by step: the count sketch makes two calls per step
      byte[][] set = slots[(int) (calls++ & 1)];
      set[rank()] = message;
      await(rank(), step);
      return Arrays.asList(set.clone());
    }
  }
}
