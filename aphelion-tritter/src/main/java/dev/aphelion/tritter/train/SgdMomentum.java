package dev.aphelion.tritter.train;

import dev.aphelion.core.error.ShapeException;

/** SGD with heavy-ball momentum and L2 weight decay; see {@link OptimizerConfig.Sgd}. */
public final class SgdMomentum implements Optimizer {
  private final OptimizerConfig.Sgd config;
  private final float[] velocity;
  private long t;

  /**
   * Creates the optimizer's state.
   *
   * @param size the number of parameters, at least 1
   * @param config the settings
   */
  public SgdMomentum(int size, OptimizerConfig.Sgd config) {
    if (size < 1) {
      throw new ShapeException("an optimizer needs at least 1 parameter, got " + size);
    }
    this.config = java.util.Objects.requireNonNull(config, "config");
    this.velocity = new float[size];
  }

  @Override
  public void step(float[] params, float[] grads, float lr) {
    if (params.length != velocity.length || grads.length != velocity.length) {
      throw new ShapeException("SGD holds " + velocity.length + " parameters, given " + params.length + " and gradient "
          + grads.length);
    }
    t++;
    float mu = config.momentum();
    float wd = config.weightDecay();
    for (int i = 0; i < params.length; i++) {
      float v = mu * velocity[i] + grads[i] + wd * params[i];
      velocity[i] = v;
      params[i] -= lr * v;
    }
  }

  @Override
  public long steps() {
    return t;
  }

  @Override
  public State state() {
    return new State(t, new float[][] {velocity.clone()});
  }

  @Override
  public void restore(State state) {
    Buffers.restoreArrays("SGD", state, velocity);
    t = state.steps();
  }
}
