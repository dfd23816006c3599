package dev.aphelion.core.trace;

import java.util.Objects;

/**
 * Passes events at or above a minimum level to a delegate and drops the rest.
 *
 * @param minimum the lowest level that is passed on
 * @param delegate the sink receiving the events that pass
 */
public record LevelFilterSink(TraceLevel minimum, TraceSink delegate) implements TraceSink {

  /** Checks that both components are present. */
  public LevelFilterSink {
    Objects.requireNonNull(minimum, "minimum");
    Objects.requireNonNull(delegate, "delegate");
  }

  @Override
  public void record(TraceEvent event) {
    if (event.level().isAtLeast(minimum)) {
      delegate.record(event);
    }
  }

  @Override
  public boolean isEnabled(TraceLevel level) {
    return level.isAtLeast(minimum) && delegate.isEnabled(level);
  }
}
