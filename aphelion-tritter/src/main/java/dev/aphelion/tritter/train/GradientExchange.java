package dev.aphelion.tritter.train;

/**
 * The service provider interface between data-parallel workers: one call per optimizer step that
 * turns this worker's local gradient into the average over all workers.
 *
 * <p>Every worker of a job holds its own instance (its {@link #rank()}) and calls
 * {@link #allReduce} once per step, in the same step order; the call blocks until every worker's
 * contribution of that step is in, and fails with a clear exception (never hangs) when a worker
 * does not arrive within the implementation's timeout. The result is weighted by example count,
 * so that workers with a short last batch, or none, count for what they saw. All workers obtain
 * bit-identical averages, so replicas that apply the same optimizer stay identical.
 *
 * <p>Implementations: {@link InProcessExchange} (threads of one JVM) and, in {@code
 * aphelion-spark}, a Spark barrier stage. Both encode with {@link MessageExchange}.
 */
public interface GradientExchange extends AutoCloseable {

  /** This worker's index, {@code 0..workers()-1}. */
  int rank();

  /** The number of workers. */
  int workers();

  /**
   * The outcome of one step's exchange.
   *
   * @param examples the examples behind the average (the sum over workers)
   * @param finite false if any worker's gradient held a NaN or infinity (the step must be skipped by all)
   */
  record Result(long examples, boolean finite) {}

  /**
   * Exchanges one step's gradients.
   *
   * @param step the step index, the same on every worker
   * @param localMean this worker's mean gradient over its {@code examples} examples (ignored when
   *     {@code examples} is 0); not modified
   * @param examples how many examples this worker's gradient averages, 0 or more
   * @param out receives the example-weighted mean over all workers
   * @return how many examples, and whether every gradient was finite
   * @throws dev.aphelion.core.error.AphelionException when a worker fails or times out, or a
   *     message is corrupt
   */
  Result allReduce(long step, float[] localMean, long examples, float[] out);

  /** What this worker's exchange sent so far. */
  ExchangeStats stats();

  /**
   * The part of an exchange that carries over from step to step and so belongs in a checkpoint: a
   * compressing exchange's error-feedback residual and its step counter.
   *
   * @param step the number of gradients this worker's codec has encoded
   * @param residual the error-feedback residual (not copied)
   */
  record State(long step, float[] residual) {
    /** Checks the state. */
    public State {
      java.util.Objects.requireNonNull(residual, "residual");
    }
  }

  /**
   * This worker's state for a checkpoint; the default, for an exchange that keeps none, is null.
   *
   * @return a copy of the state, or null
   */
  default State state() {
    return null;
  }

  /**
   * Restores the state of {@link #state()} from a checkpoint.
   *
   * @param state the state, or null for an exchange that keeps none
   * @throws dev.aphelion.core.error.ConfigException if the state does not fit this exchange
   */
  default void restore(State state) {
    if (state != null) {
      throw new dev.aphelion.core.error.ConfigException("this exchange keeps no state, but the checkpoint holds a residual of "
          + state.residual().length + " values (was the checkpoint written with a compressed exchange?)");
    }
  }

  /** Releases the transport; the default does nothing. */
  @Override
  default void close() {}
}
