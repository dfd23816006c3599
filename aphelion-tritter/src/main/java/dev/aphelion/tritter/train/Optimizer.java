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
}
