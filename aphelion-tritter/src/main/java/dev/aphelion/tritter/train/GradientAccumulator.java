package dev.aphelion.tritter.train;

import dev.aphelion.core.error.ShapeException;
import java.util.Objects;

/**
 * Sums gradients element-wise (in double precision) and counts them; {@link #getAndReset()}
 * returns their mean, for gradient accumulation over micro-batches. Not thread-safe.
 */
public final class GradientAccumulator {
  private final int dimension;
  private final double[] sum;
  private int count;

  /**
   * Creates an empty accumulator.
   *
   * @param dimension the gradient size, at least 1
   */
  public GradientAccumulator(int dimension) {
    if (dimension < 1) {
      throw new ShapeException("gradient dimension must be at least 1, got " + dimension);
    }
    this.dimension = dimension;
    this.sum = new double[dimension];
  }

  /**
   * Adds one gradient.
   *
   * @param gradient exactly {@link #dimension()} values
   * @throws ShapeException if the length differs
   */
  public void add(float[] gradient) {
    Objects.requireNonNull(gradient, "gradient");
    if (gradient.length != dimension) {
      throw new ShapeException("gradient has " + gradient.length + " values, the accumulator holds " + dimension);
    }
    for (int i = 0; i < dimension; i++) {
      sum[i] += gradient[i];
    }
    count++;
  }

  /** How many gradients were added since the last reset. */
  public int count() {
    return count;
  }

  /** The gradient size. */
  public int dimension() {
    return dimension;
  }

  /**
   * The mean of the gradients added so far, without resetting.
   *
   * @return the mean
   * @throws ShapeException if nothing was added
   */
  public float[] mean() {
    if (count == 0) {
      throw new ShapeException("no gradient accumulated yet: the mean of zero gradients is undefined");
    }
    float[] out = new float[dimension];
    for (int i = 0; i < dimension; i++) {
      out[i] = (float) (sum[i] / count);
    }
    return out;
  }

  /**
   * The mean of the gradients added so far; then empties the accumulator.
   *
   * @return the mean
   * @throws ShapeException if nothing was added
   */
  public float[] getAndReset() {
    float[] m = mean();
    reset();
    return m;
  }

  /** Empties the accumulator. */
  public void reset() {
    java.util.Arrays.fill(sum, 0.0);
    count = 0;
  }
}
