package dev.aphelion.core.trace;

import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;

/**
 * One structured trace event: an immutable value with an id, a level, a message, attributes sorted
 * by key, a timestamp, and the span and trace it belongs to.
 *
 * <p>Attribute values are strings so that an event survives a JSON Lines round trip unchanged
 * (see {@link TraceJsonLines}); numbers are recorded in their canonical {@code toString} form.
 *
 * @param id identifier of the event, unique within its trace
 * @param level severity
 * @param message human-readable message
 * @param attributes structured key/value attributes, sorted by key (copied, unmodifiable)
 * @param timestamp wall-clock time at which the event was recorded
 * @param spanId the span the event was recorded in, or {@code null} when outside any span
 * @param traceId the trace (for example one pipeline run) the event belongs to, or {@code null}
 */
public record TraceEvent(
    String id,
    TraceLevel level,
    String message,
    SortedMap<String, String> attributes,
    Instant timestamp,
    String spanId,
    String traceId) {

  /** Validates the components and freezes the attributes. */
  public TraceEvent {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(level, "level");
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(timestamp, "timestamp");
    if (id.isEmpty()) {
      throw new IllegalArgumentException("trace event id must not be empty");
    }
    attributes = freeze(attributes);
  }

  private static SortedMap<String, String> freeze(Map<String, String> attributes) {
    TreeMap<String, String> copy = new TreeMap<>();
    if (attributes != null) {
      for (Map.Entry<String, String> e : attributes.entrySet()) {
        String key = Objects.requireNonNull(e.getKey(), "attribute key");
        if (key.isEmpty()) {
          throw new IllegalArgumentException("trace attribute key must not be empty");
        }
        copy.put(key, Objects.requireNonNull(e.getValue(), () -> "value of attribute '" + key + "'"));
      }
    }
    return Collections.unmodifiableSortedMap(copy);
  }

  /**
   * Returns the value of one attribute.
   *
   * @param key the attribute key
   * @return the value, or {@code null} if the event has no such attribute
   */
  public String attribute(String key) {
    return attributes.get(key);
  }

  /**
   * Starts a builder for an event with a random id and the current time.
   *
   * @param level severity
   * @param message human-readable message
   * @return a new builder
   */
  public static Builder builder(TraceLevel level, String message) {
    return new Builder(level, message);
  }

  /** Builder for {@link TraceEvent}; only the level and message are required. */
  public static final class Builder {
    private String id;
    private final TraceLevel level;
    private final String message;
    private final TreeMap<String, String> attributes = new TreeMap<>();
    private Instant timestamp;
    private String spanId;
    private String traceId;

    private Builder(TraceLevel level, String message) {
      this.level = Objects.requireNonNull(level, "level");
      this.message = Objects.requireNonNull(message, "message");
    }

    /**
     * Sets the event id (default: a random UUID).
     *
     * @param id the id
     * @return this builder
     */
    public Builder id(String id) {
      this.id = id;
      return this;
    }

    /**
     * Adds an attribute; the value is recorded as {@code String.valueOf(value)}.
     *
     * @param key the key
     * @param value the value, not {@code null}
     * @return this builder
     */
    public Builder attribute(String key, Object value) {
      attributes.put(
          Objects.requireNonNull(key, "key"),
          String.valueOf(Objects.requireNonNull(value, () -> "value of attribute '" + key + "'")));
      return this;
    }

    /**
     * Adds all attributes of a map.
     *
     * @param values the attributes
     * @return this builder
     */
    public Builder attributes(Map<String, String> values) {
      values.forEach(this::attribute);
      return this;
    }

    /**
     * Sets the timestamp (default: {@link Instant#now()} at {@link #build()}).
     *
     * @param timestamp the timestamp
     * @return this builder
     */
    public Builder timestamp(Instant timestamp) {
      this.timestamp = timestamp;
      return this;
    }

    /**
     * Sets the span id.
     *
     * @param spanId the span id, or {@code null}
     * @return this builder
     */
    public Builder spanId(String spanId) {
      this.spanId = spanId;
      return this;
    }

    /**
     * Sets the trace id.
     *
     * @param traceId the trace id, or {@code null}
     * @return this builder
     */
    public Builder traceId(String traceId) {
      this.traceId = traceId;
      return this;
    }

    /**
     * Builds the event.
     *
     * @return the immutable event
     */
    public TraceEvent build() {
      return new TraceEvent(
          id != null ? id : UUID.randomUUID().toString(),
          level,
          message,
          attributes,
          timestamp != null ? timestamp : Instant.now(),
          spanId,
          traceId);
    }
  }
}
