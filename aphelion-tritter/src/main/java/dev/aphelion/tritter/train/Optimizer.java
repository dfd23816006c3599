package dev.aphelion.tritter.train;

/**
 * Updates a flat parameter vector from its gradient, in place. Implementations keep per-parameter
 * state (moments, velocity) and are not thread-safe.
 */
public interface Optimizer {

  /**
   * Applies one update.
   *
   * @param params the parameters, updated in place
   * @param grads their gradient (not modified)
   * @param learningRate the learning rate of this step
   * @throws dev.aphelion.core.error.ShapeException if a length differs from the optimizer's size
   */
  void step(float[] params, float[] grads, float learningRate);

  /** The number of updates applied. */
  long steps();

  /**
   * A copy of the optimizer's state, for a checkpoint.
   *
   * @return the update count and the per-parameter arrays
   */
  State state();

  /**
   * Replaces the optimizer's state by a checkpointed one.
   *
   * @param state a state from {@link #state()} of an optimizer of the same kind and size
   * @throws dev.aphelion.core.error.ShapeException if the arrays do not fit this optimizer
   */
  void restore(State state);

  /**
   * The state of an optimizer: its update count and per-parameter arrays (AdamW: first and second
   * moment; SGD: velocity).
   *
   * @param steps the updates applied
   * @param arrays the arrays, in the optimizer's order (not copied)
   */
  record State(long steps, float[][] arrays) {
    /** Checks the state. */
    public State {
      java.util.Objects.requireNonNull(arrays, "arrays");
      if (steps < 0) {
        throw new dev.aphelion.core.error.ShapeException("optimizer step count must not be negative, got " + steps);
      }
    }
  }
}
