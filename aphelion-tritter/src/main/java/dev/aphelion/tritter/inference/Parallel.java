package dev.aphelion.tritter.inference;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/** Splits an index range over the common fork-join pool; small ranges run on the caller. */
final class Parallel {
  private Parallel() {}

  /** Body over a half-open range. */
  @FunctionalInterface
  interface RangeBody {
    void run(int from, int to);
  }

  /**
   * Runs {@code body} over {@code [0, n)} in chunks of at least {@code grain} indices.
   *
   * @param n the range length
   * @param grain the smallest chunk worth a task
   * @param body the work
   */
  static void forRange(int n, int grain, RangeBody body) {
    int threads = ForkJoinPool.getCommonPoolParallelism();
    if (n <= grain || threads <= 1) {
      body.run(0, n);
      return;
    }
    int chunks = Math.min(threads * 4, (n + grain - 1) / grain);
    ForkJoinPool.commonPool().invoke(new Task(body, 0, n, Math.max(grain, (n + chunks - 1) / chunks)));
  }

  private static final class Task extends RecursiveAction {
    private static final long serialVersionUID = 1L;
    private final transient RangeBody body;
    private final int from;
    private final int to;
    private final int chunk;

    Task(RangeBody body, int from, int to, int chunk) {
      this.body = body;
      this.from = from;
      this.to = to;
      this.chunk = chunk;
    }

    @Override
    protected void compute() {
      if (to - from <= chunk) {
        body.run(from, to);
        return;
      }
      int mid = from + ((to - from) / chunk / 2) * chunk;
      if (mid == from) {
        mid = from + chunk;
      }
      invokeAll(new Task(body, from, mid, chunk), new Task(body, mid, to, chunk));
    }
  }
}
