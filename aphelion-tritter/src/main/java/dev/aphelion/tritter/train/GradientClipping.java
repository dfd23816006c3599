package dev.aphelion.tritter.train;

import dev.aphelion.core.error.ConfigException;

/** Clipping of a gradient vector by its global L2 norm. */
public final class GradientClipping {
  private GradientClipping() {}

  /**
   * The L2 norm of a vector, summed in double precision.
   *
   * @param g the values
   * @return {@code sqrt(Σ g²)}
   */
  public static double norm(float[] g) {
    double s = 0;
    for (float v : g) {
      s += (double) v * v;
    }
    return Math.sqrt(s);
  }

  /**
   * Scales {@code g} in place so that its L2 norm is at most {@code maxNorm}.
   *
   * @param g the gradient
   * @param maxNorm the largest allowed norm, positive
   * @return the norm before clipping
   * @throws ConfigException if {@code maxNorm} is not positive and finite
   */
  public static double clipByGlobalNorm(float[] g, double maxNorm) {
    if (!(maxNorm > 0) || Double.isInfinite(maxNorm)) {
      throw new ConfigException("the clipping norm must be positive and finite, got " + maxNorm);
    }
    double n = norm(g);
    if (n > maxNorm) {
      float f = (float) (maxNorm / n);
      for (int i = 0; i < g.length; i++) {
        g[i] *= f;
      }
    }
    return n;
  }
}
