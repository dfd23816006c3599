package dev.aphelion.tritter.train;

import dev.aphelion.core.error.ShapeException;

/**
 * Adam (Kingma and Ba) with bias correction and decoupled weight decay:
 * {@code p ← p − lr · (m̂ / (√v̂ + eps) + λ p)}.
 */
public final class AdamW implements Optimizer {
  private final OptimizerConfig.AdamW config;
  private final float[] m;
  private final float[] v;
  private long t;

  /**
   * Creates the optimizer's state.
   *
   * @param size the number of parameters, at least 1
   * @param config the settings
   */
  public AdamW(int size, OptimizerConfig.AdamW config) {
    if (size < 1) {
      throw new ShapeException("an optimizer needs at least 1 parameter, got " + size);
    }
    this.config = java.util.Objects.requireNonNull(config, "config");
    this.m = new float[size];
    this.v = new float[size];
  }

  @Override
  public void step(float[] params, float[] grads, float lr) {
    if (params.length != m.length || grads.length != m.length) {
      throw new ShapeException("AdamW holds " + m.length + " parameters, given " + params.length + " and gradient " + grads.length);
    }
    t++;
    float b1 = config.beta1();
    float b2 = config.beta2();
    float a = (float) (lr / (1 - Math.pow(b1, t)));
    float rc2 = (float) (1 / Math.sqrt(1 - Math.pow(b2, t)));
    float eps = config.eps();
    float decay = lr * config.weightDecay();
    for (int i = 0; i < params.length; i++) {
      float g = grads[i];
      float mi = b1 * m[i] + (1 - b1) * g;
      float vi = b2 * v[i] + (1 - b2) * g * g;
      m[i] = mi;
      v[i] = vi;
      params[i] -= a * mi / ((float) Math.sqrt(vi) * rc2 + eps) + decay * params[i];
    }
  }

  @Override
  public long steps() {
    return t;
  }

  @Override
  public State state() {
    return new State(t, new float[][] {m.clone(), v.clone()});
  }

  @Override
  public void restore(State state) {
    Buffers.restoreArrays("AdamW", state, m, v);
    t = state.steps();
  }
}
