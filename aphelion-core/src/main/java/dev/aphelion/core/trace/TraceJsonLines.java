package dev.aphelion.core.trace;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aphelion.core.error.SerializationException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Exports and imports {@link TraceEvent}s as JSON Lines: one JSON object per line, UTF-8, lines
 * separated by {@code \n}.
 *
 * <p>Each object has the fields {@code id}, {@code level} (enum name), {@code message}, {@code
 * timestamp} (ISO-8601 UTC, as {@link Instant#toString()}, nanosecond precision kept), optional
 * {@code traceId} and {@code spanId} (omitted when absent), and {@code attributes} (an object of
 * strings, keys sorted). Reading ignores unknown fields (so later versions may add some) and blank
 * lines; a malformed line raises a {@link SerializationException} that names the line number. A
 * write followed by a read gives back equal events.
 */
public final class TraceJsonLines {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private TraceJsonLines() {}

  /**
   * Encodes one event as a single JSON line (without the line terminator).
   *
   * @param event the event
   * @return the JSON text, containing no newline
   */
  public static String toJson(TraceEvent event) {
    ObjectNode o = MAPPER.createObjectNode();
    o.put("id", event.id());
    o.put("level", event.level().name());
    o.put("message", event.message());
    o.put("timestamp", event.timestamp().toString());
    if (event.traceId() != null) {
      o.put("traceId", event.traceId());
    }
    if (event.spanId() != null) {
      o.put("spanId", event.spanId());
    }
    ObjectNode attrs = o.putObject("attributes");
    event.attributes().forEach(attrs::put);
    try {
      // Jackson escapes control characters, so the result never spans several lines.
      return MAPPER.writeValueAsString(o);
    } catch (JsonProcessingException e) {
      throw new SerializationException("cannot encode trace event " + event.id(), e);
    }
  }

  /**
   * Writes the events, one line each, to {@code out}. The writer is not closed.
   *
   * @param events the events
   * @param out the destination
   * @throws UncheckedIOException if writing fails
   */
  public static void write(Iterable<TraceEvent> events, Writer out) {
    try {
      for (TraceEvent event : events) {
        out.write(toJson(event));
        out.write('\n');
      }
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write trace events", e);
    }
  }

  /**
   * Encodes the events as a JSON Lines document.
   *
   * @param events the events
   * @return one line per event, each terminated by {@code \n}
   */
  public static String toJsonLines(Iterable<TraceEvent> events) {
    StringBuilder sb = new StringBuilder();
    for (TraceEvent event : events) {
      sb.append(toJson(event)).append('\n');
    }
    return sb.toString();
  }

  /**
   * Decodes one JSON line.
   *
   * @param line the JSON object text
   * @return the event
   * @throws SerializationException if the line is not a valid trace event
   */
  public static TraceEvent fromJson(String line) {
    return parse(line, 1);
  }

  /**
   * Reads every event from a JSON Lines document. The reader is not closed.
   *
   * @param in the source
   * @return the events in document order
   * @throws SerializationException if a line is malformed (the message names the line number)
   * @throws UncheckedIOException if reading fails
   */
  public static List<TraceEvent> read(Reader in) {
    BufferedReader reader = in instanceof BufferedReader b ? b : new BufferedReader(in);
    List<TraceEvent> events = new ArrayList<>();
    try {
      String line;
      int number = 0;
      while ((line = reader.readLine()) != null) {
        number++;
        if (!line.isBlank()) {
          events.add(parse(line, number));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read trace events", e);
    }
    return events;
  }

  /**
   * Reads every event from a JSON Lines string.
   *
   * @param text the document
   * @return the events in document order
   * @throws SerializationException if a line is malformed
   */
  public static List<TraceEvent> fromJsonLines(String text) {
    return read(new StringReader(text));
  }

  private static TraceEvent parse(String line, int number) {
    JsonNode node;
    try {
      node = MAPPER.readTree(line);
    } catch (JsonProcessingException e) {
      throw new SerializationException(
          "trace line " + number + ": not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (node == null || !node.isObject()) {
      throw new SerializationException("trace line " + number + ": expected a JSON object");
    }
    String id = requiredText(node, "id", number);
    String levelName = requiredText(node, "level", number);
    TraceLevel level;
    try {
      level = TraceLevel.valueOf(levelName);
    } catch (IllegalArgumentException e) {
      throw new SerializationException(
          "trace line " + number + ": unknown level '" + levelName + "'", e);
    }
    String message = requiredText(node, "message", number);
    String ts = requiredText(node, "timestamp", number);
    Instant timestamp;
    try {
      timestamp = Instant.parse(ts);
    } catch (DateTimeParseException e) {
      throw new SerializationException(
          "trace line " + number + ": bad timestamp '" + ts + "'", e);
    }
    Map<String, String> attributes = new TreeMap<>();
    JsonNode attrs = node.get("attributes");
    if (attrs != null && !attrs.isNull()) {
      if (!attrs.isObject()) {
        throw new SerializationException(
            "trace line " + number + ": 'attributes' must be an object");
      }
      for (Map.Entry<String, JsonNode> e : attrs.properties()) {
        if (!e.getValue().isTextual()) {
          throw new SerializationException(
              "trace line " + number + ": attribute '" + e.getKey() + "' must be a string");
        }
        attributes.put(e.getKey(), e.getValue().textValue());
      }
    }
    try {
      return new TraceEvent(
          id,
          level,
          message,
          new TreeMap<>(attributes),
          timestamp,
          optionalText(node, "spanId", number),
          optionalText(node, "traceId", number));
    } catch (IllegalArgumentException e) {
      throw new SerializationException("trace line " + number + ": " + e.getMessage(), e);
    }
  }

  private static String requiredText(JsonNode node, String field, int number) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      throw new SerializationException("trace line " + number + ": missing field '" + field + "'");
    }
    if (!v.isTextual()) {
      throw new SerializationException(
          "trace line " + number + ": field '" + field + "' must be a string");
    }
    return v.textValue();
  }

  private static String optionalText(JsonNode node, String field, int number) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw new SerializationException(
          "trace line " + number + ": field '" + field + "' must be a string");
    }
    return v.textValue();
  }
}
