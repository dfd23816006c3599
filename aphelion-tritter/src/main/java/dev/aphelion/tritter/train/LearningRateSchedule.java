package dev.aphelion.tritter.train;

import dev.aphelion.core.error.ConfigException;
import java.io.Serializable;

/**
 * A learning rate per optimizer step: linear warm-up from {@code peak / warmupSteps} to
 * {@code peak} over {@code warmupSteps} steps, then a cosine decay from {@code peak} to
 * {@code floor} at the last step (a constant rate when {@code cosine} is false).
 *
 * @param peak the peak learning rate, positive and finite
 * @param warmupSteps steps of linear warm-up, 0 for none
 * @param floor the rate at the end of the decay, in {@code [0, peak]}
 * @param cosine whether the rate decays along a cosine after the warm-up
 */
public record LearningRateSchedule(double peak, int warmupSteps, double floor, boolean cosine) implements Serializable {

  /** Checks the ranges. */
  public LearningRateSchedule {
    if (!(peak > 0) || Double.isInfinite(peak)) {
      throw new ConfigException("the peak learning rate must be positive and finite, got " + peak);
    }
    if (warmupSteps < 0) {
      throw new ConfigException("warm-up steps must not be negative, got " + warmupSteps);
    }
    if (!(floor >= 0 && floor <= peak)) {
      throw new ConfigException("the final learning rate must be in [0, peak], got " + floor + " for peak " + peak);
    }
  }

  /**
   * Warm-up then cosine decay to 0.
   *
   * @param peak the peak rate
   * @param warmupSteps warm-up steps
   * @return the schedule
   */
  public static LearningRateSchedule warmupCosine(double peak, int warmupSteps) {
    return new LearningRateSchedule(peak, warmupSteps, 0, true);
  }

  /**
   * A constant rate.
   *
   * @param rate the rate
   * @return the schedule
   */
  public static LearningRateSchedule constant(double rate) {
    return new LearningRateSchedule(rate, 0, rate, false);
  }

  /**
   * The rate of a step.
   *
   * @param step the step, 0-based
   * @param totalSteps the number of steps of the whole run, at least 1
   * @return the rate
   */
  public float at(long step, long totalSteps) {
    if (step < warmupSteps) {
      return (float) (peak * (step + 1) / warmupSteps);
    }
    if (!cosine) {
      return (float) peak;
    }
    long decay = Math.max(1, totalSteps - warmupSteps - 1);
    double progress = Math.min(1.0, (double) (step - warmupSteps) / decay);
    return (float) (floor + (peak - floor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
  }
}
