package dev.aphelion.core.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.error.SerializationException;
import java.io.StringWriter;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TraceJsonLinesTest {

  private static final Instant T = Instant.parse("2026-11-28T10:15:30.123456789Z");

  @Test
  void roundTripsEveryField() {
    List<TraceEvent> events =
        List.of(
            TraceEvent.builder(TraceLevel.INFO, "stage validation finished")
                .id("e1")
                .timestamp(T)
                .traceId("00ff00ff00ff00ff")
                .spanId("s1")
                .attribute("duration_ns", 1234L)
                .attribute("stage", "validation")
                .build(),
            TraceEvent.builder(TraceLevel.ERROR, "multi\nline \"quoted\" \u00e9\u4e2d\ud83d\ude00 \u0001")
                .id("e2")
                .timestamp(Instant.EPOCH)
                .attributes(Map.of("k\tey", "v\r\nal", "z", ""))
                .build(),
            TraceEvent.builder(TraceLevel.TRACE, "").id("e3").timestamp(T.plusNanos(1)).build());
    StringWriter out = new StringWriter();
    TraceJsonLines.write(events, out);
    String text = out.toString();
    assertEquals(3, text.split("\n", -1).length - 1, "one line per event: " + text);
    assertEquals(text, TraceJsonLines.toJsonLines(events));
    assertEquals(events, TraceJsonLines.fromJsonLines(text));
    assertFalse(text.contains("spanId\":null"), "absent ids are omitted");
  }

  @Test
  void encodesTheDocumentedFields() {
    TraceEvent e =
        TraceEvent.builder(TraceLevel.WARN, "hi").id("e7").timestamp(T).traceId("t").attribute("b", 2).attribute("a", 1).build();
    assertEquals(
        "{\"id\":\"e7\",\"level\":\"WARN\",\"message\":\"hi\",\"timestamp\":\"2026-11-28T10:15:30.123456789Z\","
            + "\"traceId\":\"t\",\"attributes\":{\"a\":\"1\",\"b\":\"2\"}}",
        TraceJsonLines.toJson(e));
  }

  @Test
  void skipsBlankLinesAndIgnoresUnknownFields() {
    String text =
        "\n{\"id\":\"x\",\"level\":\"DEBUG\",\"message\":\"m\",\"timestamp\":\"1970-01-01T00:00:00Z\",\"future\":42}\n\n";
    List<TraceEvent> events = TraceJsonLines.fromJsonLines(text);
    assertEquals(1, events.size());
    assertEquals(TraceLevel.DEBUG, events.getFirst().level());
    assertTrue(events.getFirst().attributes().isEmpty());
  }

  @Test
  void malformedLinesNameTheLine() {
    String good = "{\"id\":\"x\",\"level\":\"INFO\",\"message\":\"m\",\"timestamp\":\"1970-01-01T00:00:00Z\"}\n";
    assertError(good + "{not json\n", "trace line 2: not valid JSON");
    assertError(good + good + "[1]\n", "trace line 3: expected a JSON object");
    assertError("{\"level\":\"INFO\",\"message\":\"m\",\"timestamp\":\"1970-01-01T00:00:00Z\"}", "missing field 'id'");
    assertError("{\"id\":\"x\",\"level\":\"LOUD\",\"message\":\"m\",\"timestamp\":\"1970-01-01T00:00:00Z\"}", "unknown level 'LOUD'");
    assertError("{\"id\":\"x\",\"level\":\"INFO\",\"message\":\"m\",\"timestamp\":\"yesterday\"}", "bad timestamp 'yesterday'");
    assertError("{\"id\":\"x\",\"level\":\"INFO\",\"message\":5,\"timestamp\":\"1970-01-01T00:00:00Z\"}", "field 'message' must be a string");
    assertError(
        "{\"id\":\"x\",\"level\":\"INFO\",\"message\":\"m\",\"timestamp\":\"1970-01-01T00:00:00Z\",\"attributes\":{\"n\":1}}",
        "attribute 'n' must be a string");
    assertError("{\"id\":\"\",\"level\":\"INFO\",\"message\":\"m\",\"timestamp\":\"1970-01-01T00:00:00Z\"}", "id must not be empty");
  }

  private static void assertError(String text, String expected) {
    SerializationException e =
        assertThrows(SerializationException.class, () -> TraceJsonLines.fromJsonLines(text));
    assertEquals(ErrorCode.SERIALIZATION, e.code());
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }
}
