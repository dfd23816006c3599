package dev.aphelion.core.trace;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A timed section of a trace. Opening a span records an event "{@code <name> started}"; closing it
 * records "{@code <name> finished}" (or "{@code <name> failed}" after {@link #fail(Throwable)})
 * with the attributes {@value #DURATION_NS} and {@value #STATUS}. Events recorded through a span
 * carry its id. Closing twice has no further effect. A span is meant to be used by one thread.
 */
public final class Span implements AutoCloseable {
  /** Attribute holding the span's name. */
  public static final String NAME = "span.name";
  /** Attribute holding the parent span's id, on child spans. */
  public static final String PARENT = "span.parent";
  /** Attribute holding the span's duration in nanoseconds, on the end event. */
  public static final String DURATION_NS = "duration_ns";
  /** Attribute holding {@code ok} or {@code error}, on the end event. */
  public static final String STATUS = "status";
  /** Attribute holding the failure's class name, on the end event of a failed span. */
  public static final String ERROR_TYPE = "error.type";
  /** Attribute holding the failure's message, on the end event of a failed span. */
  public static final String ERROR_MESSAGE = "error.message";

  private final Tracer tracer;
  private final String id;
  private final String name;
  private final String parentId;
  private final long startNanos;
  private final Map<String, Object> attributes = new LinkedHashMap<>();
  private Throwable failure;
  private long endNanos;
  private boolean closed;

  Span(Tracer tracer, String name, String parentId, Map<String, ?> startAttributes) {
    this.tracer = tracer;
    this.name = Objects.requireNonNull(name, "name");
    this.parentId = parentId;
    this.id = tracer.nextSpanId();
    attributes.put(NAME, name);
    if (parentId != null) {
      attributes.put(PARENT, parentId);
    }
    attributes.putAll(startAttributes);
    this.startNanos = tracer.nanoTime();
    tracer.emit(TraceLevel.INFO, name + " started", attributes, id);
  }

  /**
   * The span id, unique within the trace.
   *
   * @return the id
   */
  public String id() {
    return id;
  }

  /**
   * The span name.
   *
   * @return the name
   */
  public String name() {
    return name;
  }

  /**
   * The id of the enclosing span.
   *
   * @return the parent id, or {@code null} for a top-level span
   */
  public String parentId() {
    return parentId;
  }

  /**
   * Opens a child span.
   *
   * @param childName the child's name
   * @return the open child span
   */
  public Span child(String childName) {
    return new Span(tracer, childName, id, Map.of());
  }

  /**
   * Adds an attribute that will be recorded on the end event.
   *
   * @param key the key
   * @param value the value, recorded with {@code String.valueOf}
   * @return this span
   */
  public Span attribute(String key, Object value) {
    attributes.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
    return this;
  }

  /**
   * Records an event inside this span.
   *
   * @param level severity
   * @param message the message
   */
  public void event(TraceLevel level, String message) {
    tracer.emit(level, message, Map.of(), id);
  }

  /**
   * Records an event with attributes inside this span.
   *
   * @param level severity
   * @param message the message
   * @param eventAttributes attributes of this event only
   */
  public void event(TraceLevel level, String message, Map<String, ?> eventAttributes) {
    tracer.emit(level, message, eventAttributes, id);
  }

  /**
   * Marks the span as failed; the end event will be at {@link TraceLevel#ERROR}.
   *
   * @param cause the failure
   * @return this span
   */
  public Span fail(Throwable cause) {
    this.failure = Objects.requireNonNull(cause, "cause");
    return this;
  }

  /**
   * Whether {@link #close()} has been called.
   *
   * @return {@code true} once closed
   */
  public boolean isClosed() {
    return closed;
  }

  /**
   * The span's duration: final once closed, the time elapsed so far while open.
   *
   * @return the duration
   */
  public Duration duration() {
    long end = closed ? endNanos : tracer.nanoTime();
    return Duration.ofNanos(Math.max(0, end - startNanos));
  }

  /** Ends the span and records its end event; later calls do nothing. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    // nanoTime values may be negative; only their difference matters.
    endNanos = tracer.nanoTime();
    if (endNanos - startNanos < 0) {
      endNanos = startNanos;
    }
    Map<String, Object> end = new TreeMap<>(attributes);
    end.put(DURATION_NS, endNanos - startNanos);
    if (failure == null) {
      end.put(STATUS, "ok");
      tracer.emit(TraceLevel.INFO, name + " finished", end, id);
    } else {
      end.put(STATUS, "error");
      end.put(ERROR_TYPE, failure.getClass().getName());
      end.put(ERROR_MESSAGE, String.valueOf(failure.getMessage()));
      tracer.emit(TraceLevel.ERROR, name + " failed", end, id);
    }
  }
}
