package dev.aphelion.core.trace;

import java.time.Clock;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Creates {@link TraceEvent}s and {@link Span}s for one trace and sends them to a {@link
 * TraceSink}. Every event of a tracer carries the same trace id; event ids ({@code e1}, {@code
 * e2}, ...) and span ids ({@code s1}, ...) are sequential and unique within the trace, including
 * across tracers derived with {@link #withSink(TraceSink)}. Thread-safe.
 *
 * <pre>{@code
 * Tracer tracer = Tracer.create(new Slf4jTraceSink());
 * try (Span span = tracer.span("load")) {
 *   span.attribute("file", path);
 *   ...
 * } // records "load finished" with duration_ns
 * }</pre>
 */
public final class Tracer {
  private final TraceSink sink;
  private final Shared shared;
  private final String currentSpanId; // events outside an explicit span are tagged with it

  /** State shared by a tracer and the tracers derived from it. */
  private record Shared(
      String traceId, Clock clock, LongSupplier nanoTime, AtomicLong events, AtomicLong spans) {}

  private Tracer(TraceSink sink, Shared shared, String currentSpanId) {
    this.sink = sink;
    this.shared = shared;
    this.currentSpanId = currentSpanId;
  }

  /**
   * Creates a tracer with a random 64-bit trace id, the system clock and {@link System#nanoTime()}.
   *
   * @param sink where events go
   * @return the tracer
   */
  public static Tracer create(TraceSink sink) {
    return builder().sink(sink).build();
  }

  /**
   * A tracer that records nothing.
   *
   * @return a tracer over {@link TraceSink#noop()}
   */
  public static Tracer noop() {
    return create(TraceSink.noop());
  }

  /**
   * Starts a builder (defaults: no-op sink, random trace id, system UTC clock, {@link
   * System#nanoTime()}).
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A tracer with the same trace id, clocks and id counters that records to another sink. Used by
   * the pipeline to additionally collect the events of one run.
   *
   * @param other the sink of the derived tracer
   * @return the derived tracer
   */
  public Tracer withSink(TraceSink other) {
    return new Tracer(Objects.requireNonNull(other, "sink"), shared, currentSpanId);
  }

  /**
   * A tracer like this one whose events are recorded inside {@code span}, and whose new spans are
   * its children. The pipeline hands each stage a context with such a tracer, so that what a
   * stage records is attributed to the stage's span.
   *
   * @param span the enclosing span
   * @return the derived tracer
   */
  public Tracer within(Span span) {
    return new Tracer(sink, shared, span.id());
  }

  /**
   * The id of the span this tracer's events are recorded in (see {@link #within(Span)}).
   *
   * @return the span id, or {@code null} for a top-level tracer
   */
  public String currentSpanId() {
    return currentSpanId;
  }

  /**
   * The sink events are recorded to.
   *
   * @return the sink
   */
  public TraceSink sink() {
    return sink;
  }

  /**
   * The id shared by all events of this tracer.
   *
   * @return the trace id
   */
  public String traceId() {
    return shared.traceId();
  }

  /**
   * Whether events of this level would be recorded.
   *
   * @param level the level
   * @return the sink's answer
   */
  public boolean isEnabled(TraceLevel level) {
    return sink.isEnabled(level);
  }

  /**
   * Records an event (inside {@link #currentSpanId()}, if any).
   *
   * @param level severity
   * @param message the message
   */
  public void event(TraceLevel level, String message) {
    emit(level, message, Map.of(), currentSpanId);
  }

  /**
   * Records an event with attributes (inside {@link #currentSpanId()}, if any).
   *
   * @param level severity
   * @param message the message
   * @param attributes attributes; values are recorded with {@code String.valueOf}
   */
  public void event(TraceLevel level, String message, Map<String, ?> attributes) {
    emit(level, message, attributes, currentSpanId);
  }

  /**
   * Records an {@link TraceLevel#INFO} event (see {@link #event(TraceLevel, String)}).
   *
   * @param message the message
   */
  public void info(String message) {
    event(TraceLevel.INFO, message);
  }

  /**
   * Records a {@link TraceLevel#WARN} event (see {@link #event(TraceLevel, String)}).
   *
   * @param message the message
   */
  public void warn(String message) {
    event(TraceLevel.WARN, message);
  }

  /**
   * Opens a span (a child of {@link #currentSpanId()}, if any); close it (try-with-resources) to
   * record its duration.
   *
   * @param name what the span measures, for example a stage name
   * @return the open span
   */
  public Span span(String name) {
    return new Span(this, name, currentSpanId, Map.of());
  }

  /**
   * Opens a span with start attributes (a child of {@link #currentSpanId()}, if any).
   *
   * @param name what the span measures
   * @param attributes attributes recorded on the start and end events
   * @return the open span
   */
  public Span span(String name, Map<String, ?> attributes) {
    return new Span(this, name, currentSpanId, attributes);
  }

  String nextSpanId() {
    return "s" + shared.spans().incrementAndGet();
  }

  long nanoTime() {
    return shared.nanoTime().getAsLong();
  }

  void emit(TraceLevel level, String message, Map<String, ?> attributes, String spanId) {
    if (!sink.isEnabled(level)) {
      return;
    }
    TraceEvent.Builder b =
        TraceEvent.builder(level, message)
            .id("e" + shared.events().incrementAndGet())
            .timestamp(shared.clock().instant())
            .traceId(shared.traceId())
            .spanId(spanId);
    attributes.forEach(b::attribute);
    sink.record(b.build());
  }

  /** Builder for {@link Tracer}. */
  public static final class Builder {
    private TraceSink sink = TraceSink.noop();
    private String traceId;
    private Clock clock = Clock.systemUTC();
    private LongSupplier nanoTime = System::nanoTime;

    private Builder() {}

    /**
     * Sets the sink.
     *
     * @param sink the sink
     * @return this builder
     */
    public Builder sink(TraceSink sink) {
      this.sink = Objects.requireNonNull(sink, "sink");
      return this;
    }

    /**
     * Sets the trace id (default: 16 random hex digits).
     *
     * @param traceId a non-empty id
     * @return this builder
     */
    public Builder traceId(String traceId) {
      if (traceId == null || traceId.isEmpty()) {
        throw new IllegalArgumentException("trace id must not be empty");
      }
      this.traceId = traceId;
      return this;
    }

    /**
     * Sets the wall clock used for event timestamps (tests pass a fixed clock).
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Sets the monotonic nanosecond source used for span durations.
     *
     * @param nanoTime the source
     * @return this builder
     */
    public Builder nanoTime(LongSupplier nanoTime) {
      this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
      return this;
    }

    /**
     * Builds the tracer.
     *
     * @return the tracer
     */
    public Tracer build() {
      String id =
          traceId != null
              ? traceId
              : HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
      return new Tracer(
          sink, new Shared(id, clock, nanoTime, new AtomicLong(), new AtomicLong()), null);
    }
  }
}
