package dev.aphelion.core.trace;

/**
 * Receives {@link TraceEvent}s. Implementations used by a pipeline must be thread-safe, because
 * stages and hooks may record from several threads.
 */
public interface TraceSink {

  /**
   * Records one event. A sink should not throw; a {@link FanOutTraceSink} isolates sinks that do.
   *
   * @param event the event
   */
  void record(TraceEvent event);

  /**
   * Whether events of this level would be kept; lets callers skip building events nobody wants.
   *
   * @param level the level
   * @return {@code true} by default
   */
  default boolean isEnabled(TraceLevel level) {
    return true;
  }

  /**
   * A sink that drops every event.
   *
   * @return the shared no-op sink
   */
  static TraceSink noop() {
    return NoopSink.INSTANCE;
  }

  /** The no-op sink; an enum gives a serialization-safe singleton. */
  enum NoopSink implements TraceSink {
    /** The only instance. */
    INSTANCE;

    @Override
    public void record(TraceEvent event) {}

    @Override
    public boolean isEnabled(TraceLevel level) {
      return false;
    }
  }
}
