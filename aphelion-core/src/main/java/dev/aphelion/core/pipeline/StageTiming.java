package dev.aphelion.core.pipeline;

import java.time.Duration;
import java.util.Objects;

/**
 * How long one stage's {@code execute} took.
 *
 * @param stage the stage name
 * @param duration the wall-clock duration, measured with the run's tracer clock
 */
public record StageTiming(String stage, Duration duration) {

  /** Checks the components. */
  public StageTiming {
    Objects.requireNonNull(stage, "stage");
    Objects.requireNonNull(duration, "duration");
    if (duration.isNegative()) {
      throw new IllegalArgumentException("stage '" + stage + "' has a negative duration");
    }
  }
}
