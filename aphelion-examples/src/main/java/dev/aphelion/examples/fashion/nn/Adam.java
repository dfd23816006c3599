package dev.aphelion.examples.fashion.nn;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ShapeException;

/**
 * The Adam optimizer (Kingma and Ba) with bias correction and optional decoupled weight decay
 * (AdamW), updating a flat parameter vector in place.
 */
public final class Adam {
  private final float beta1;
  private final float beta2;
  private final float eps;
  private final float weightDecay;
  private final float[] m;
  private final float[] v;
  private int t;

  /**
   * Creates the optimizer's state for {@code size} parameters.
   *
   * @param size the number of parameters
   * @param beta1 decay of the first moment, in [0, 1)
   * @param beta2 decay of the second moment, in [0, 1)
   * @param eps added to the root of the second moment
   * @param weightDecay decoupled weight decay per unit learning rate, 0 for none
   */
  public Adam(int size, float beta1, float beta2, float eps, float weightDecay) {
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps > 0) || weightDecay < 0) {
      throw new ConfigException(
          "Adam needs 0 <= beta < 1, eps > 0, weightDecay >= 0: beta1=" + beta1 + " beta2=" + beta2
              + " eps=" + eps + " weightDecay=" + weightDecay);
    }
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
    this.m = new float[size];
    this.v = new float[size];
  }

  /**
   * Adam with the usual defaults ({@code beta1 = 0.9, beta2 = 0.999, eps = 1e-8}, no decay).
   *
   * @param size the number of parameters
   */
  public Adam(int size) {
    this(size, 0.9f, 0.999f, 1e-8f, 0f);
  }

  /**
   * Applies one update: {@code p ← p − lr · (m̂ / (√v̂ + eps) + weightDecay · p)}.
   *
   * @param params the parameters, updated in place
   * @param grad their gradient
   * @param lr the learning rate of this step
   */
  public void step(float[] params, float[] grad, float lr) {
    if (params.length != m.length || grad.length != m.length) {
      throw new ShapeException(
          "Adam holds " + m.length + " parameters, given " + params.length + " and gradient "
              + grad.length);
    }
    t++;
    float c1 = (float) (1 - Math.pow(beta1, t));
    float c2 = (float) (1 - Math.pow(beta2, t));
    float a = lr / c1;
    float rc2 = (float) (1 / Math.sqrt(c2));
    float b1 = beta1;
    float b2 = beta2;
    for (int i = 0; i < params.length; i++) {
      float g = grad[i];
      float mi = b1 * m[i] + (1 - b1) * g;
      float vi = b2 * v[i] + (1 - b2) * g * g;
      m[i] = mi;
      v[i] = vi;
      params[i] -= a * mi / ((float) Math.sqrt(vi) * rc2 + eps) + lr * weightDecay * params[i];
    }
  }

  /** The number of steps taken. */
  public int steps() {
    return t;
  }
}
