package dev.aphelion.core.trace;

import java.util.List;

/**
 * Sends every event to several sinks in order. A sink that throws does not stop the others: all
 * sinks are tried, then the first failure is rethrown with the later ones added as suppressed.
 */
public final class FanOutTraceSink implements TraceSink {
  private final List<TraceSink> sinks;

  /**
   * Creates a fan-out over the given sinks.
   *
   * @param sinks the sinks, in the order they receive events
   */
  public FanOutTraceSink(List<? extends TraceSink> sinks) {
    this.sinks = List.copyOf(sinks);
  }

  /**
   * Creates a fan-out over the given sinks.
   *
   * @param sinks the sinks, in the order they receive events
   * @return the fan-out sink
   */
  public static FanOutTraceSink of(TraceSink... sinks) {
    return new FanOutTraceSink(List.of(sinks));
  }

  /**
   * The sinks, in order.
   *
   * @return an unmodifiable list
   */
  public List<TraceSink> sinks() {
    return sinks;
  }

  @Override
  public void record(TraceEvent event) {
    RuntimeException failure = null;
    for (TraceSink sink : sinks) {
      try {
        sink.record(event);
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public boolean isEnabled(TraceLevel level) {
    for (TraceSink sink : sinks) {
      if (sink.isEnabled(level)) {
        return true;
      }
    }
    return false;
  }
}
