package dev.aphelion.tritter.train;

import dev.aphelion.core.error.ConfigException;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Dynamic loss scaling for mixed-precision training with the semantics of PyTorch's {@code
 * torch.amp.GradScaler}: the loss is multiplied by {@link #scale()} before the backward pass; the
 * gradients are divided by it again; if any is NaN or infinite the optimizer step is skipped and
 * the scale multiplied by the backoff factor (default 0.5); after {@code growthInterval} (default
 * 2000) consecutive clean steps it is multiplied by the growth factor (default 2). The scale starts
 * at 65536 and stays within {@code [minScale, maxScale]}. Not thread-safe.
 */
public final class LossScaler {
  private final double growthFactor;
  private final double backoffFactor;
  private final int growthInterval;
  private final double minScale;
  private final double maxScale;
  private double scale;
  private int cleanSteps;
  private long skippedSteps;

  /** A scaler with PyTorch's defaults: 65536, growth 2 every 2000 clean steps, backoff 0.5, bounds [1, 2^24·65536]. */
  public LossScaler() {
    this(65536.0, 2.0, 0.5, 2000, 1.0, 65536.0 * (1 << 24));
  }

  /**
   * A scaler with explicit settings.
   *
   * @param initScale the starting scale, within the bounds
   * @param growthFactor factor applied after {@code growthInterval} clean steps, greater than 1
   * @param backoffFactor factor applied on overflow, in (0, 1)
   * @param growthInterval clean steps before growing, at least 1
   * @param minScale the lower bound, positive
   * @param maxScale the upper bound, at least {@code minScale}
   * @throws ConfigException if a value is out of range
   */
  public LossScaler(double initScale, double growthFactor, double backoffFactor, int growthInterval, double minScale, double maxScale) {
    if (!(minScale > 0) || !(maxScale >= minScale) || Double.isInfinite(maxScale)) {
      throw new ConfigException("loss scale bounds must satisfy 0 < min <= max < infinity, got [" + minScale + ", " + maxScale + "]");
    }
    if (!(initScale >= minScale && initScale <= maxScale)) {
      throw new ConfigException("initial loss scale " + initScale + " outside [" + minScale + ", " + maxScale + "]");
    }
    if (!(growthFactor > 1.0) || Double.isInfinite(growthFactor)) {
      throw new ConfigException("growth factor must be > 1, got " + growthFactor);
    }
    if (!(backoffFactor > 0.0 && backoffFactor < 1.0)) {
      throw new ConfigException("backoff factor must be in (0, 1), got " + backoffFactor);
    }
    if (growthInterval < 1) {
      throw new ConfigException("growth interval must be at least 1, got " + growthInterval);
    }
    this.scale = initScale;
    this.growthFactor = growthFactor;
    this.backoffFactor = backoffFactor;
    this.growthInterval = growthInterval;
    this.minScale = minScale;
    this.maxScale = maxScale;
  }

  /** The current scale. */
  public double scale() {
    return scale;
  }

  /**
   * The loss multiplied by the current scale.
   *
   * @param loss the unscaled loss
   * @return {@code loss * scale()}
   */
  public double scaleLoss(double loss) {
    return loss * scale;
  }

  /**
   * Divides gradients by the current scale in place and reports whether all are finite.
   *
   * @param gradients the scaled gradients
   * @return true if no value is NaN or infinite
   */
  public boolean unscale(float[] gradients) {
    Objects.requireNonNull(gradients, "gradients");
    float inv = (float) (1.0 / scale);
    boolean finite = true;
    for (int i = 0; i < gradients.length; i++) {
      float g = gradients[i] * inv;
      gradients[i] = g;
      finite &= Float.isFinite(g);
    }
    return finite;
  }

  /**
   * Unscales the gradients, runs the optimizer step only if they are all finite, and updates the
   * scale (GradScaler's {@code unscale_}, {@code step} and {@code update} in one call).
   *
   * @param gradients the scaled gradients, unscaled in place
   * @param optimizerStep applies the unscaled gradients; not called on overflow
   * @return true if the step was applied, false if it was skipped
   */
  public boolean step(float[] gradients, Consumer<float[]> optimizerStep) {
    boolean finite = unscale(gradients);
    if (finite) {
      optimizerStep.accept(gradients);
    }
    update(!finite);
    return finite;
  }

  /**
   * Updates the scale after a step: backoff on overflow, growth after enough clean steps.
   *
   * @param overflow whether the step's gradients held NaN or infinite values
   */
  public void update(boolean overflow) {
    if (overflow) {
      scale = Math.max(minScale, scale * backoffFactor);
      cleanSteps = 0;
      skippedSteps++;
    } else if (++cleanSteps >= growthInterval) {
      scale = Math.min(maxScale, scale * growthFactor);
      cleanSteps = 0;
    }
  }

  /** Clean steps since the last growth or overflow. */
  public int cleanSteps() {
    return cleanSteps;
  }

  /** Steps skipped because of overflow. */
  public long skippedSteps() {
    return skippedSteps;
  }

  /**
   * Sets the mutable state from a checkpoint ({@link #scale()}, {@link #cleanSteps()},
   * {@link #skippedSteps()} of the scaler that wrote it; the factors are this scaler's).
   *
   * @param scale the scale, within this scaler's bounds
   * @param cleanSteps clean steps since the last growth or overflow, 0 or more
   * @param skippedSteps steps skipped so far, 0 or more
   * @throws ConfigException if a value is out of range
   */
  public void restore(double scale, int cleanSteps, long skippedSteps) {
    if (!(scale >= minScale && scale <= maxScale) || cleanSteps < 0 || skippedSteps < 0) {
      throw new ConfigException("loss scaler state out of range: scale " + scale + " (bounds [" + minScale + ", " + maxScale
          + "]), clean steps " + cleanSteps + ", skipped " + skippedSteps);
    }
    this.scale = scale;
    this.cleanSteps = cleanSteps;
    this.skippedSteps = skippedSteps;
  }
}
