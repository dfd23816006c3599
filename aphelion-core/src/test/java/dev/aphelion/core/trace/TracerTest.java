package dev.aphelion.core.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TracerTest {
  private static final Instant T0 = Instant.parse("2026-11-28T00:00:00Z");

  private final AtomicLong nanos = new AtomicLong(-5_000); // nanoTime may be negative
  private final InMemoryTraceSink sink = new InMemoryTraceSink(100);
  private final Tracer tracer =
      Tracer.builder()
          .sink(sink)
          .traceId("trace-1")
          .clock(Clock.fixed(T0, ZoneOffset.UTC))
          .nanoTime(nanos::get)
          .build();

  @Test
  void spanRecordsStartAndEndWithDuration() {
    Span span = tracer.span("hashing", Map.of("nodes", 3));
    nanos.addAndGet(1_500);
    span.attribute("digest", "abc");
    span.event(TraceLevel.DEBUG, "inside");
    span.close();
    span.close(); // idempotent
    nanos.addAndGet(99);
    assertEquals(Duration.ofNanos(1_500), span.duration());
    assertTrue(span.isClosed());

    List<TraceEvent> events = sink.events();
    assertEquals(3, events.size());
    TraceEvent start = events.get(0);
    TraceEvent inside = events.get(1);
    TraceEvent end = events.get(2);
    assertEquals(List.of("e1", "e2", "e3"), events.stream().map(TraceEvent::id).toList());
    assertEquals("hashing started", start.message());
    assertEquals("3", start.attribute("nodes"));
    assertEquals("hashing", start.attribute(Span.NAME));
    assertEquals("s1", start.spanId());
    assertEquals("s1", inside.spanId());
    assertEquals("hashing finished", end.message());
    assertEquals(TraceLevel.INFO, end.level());
    assertEquals("1500", end.attribute(Span.DURATION_NS));
    assertEquals("ok", end.attribute(Span.STATUS));
    assertEquals("abc", end.attribute("digest"));
    for (TraceEvent e : events) {
      assertEquals("trace-1", e.traceId());
      assertEquals(T0, e.timestamp());
    }
  }

  @Test
  void failedSpanEndsAtErrorLevel() {
    try (Span span = tracer.span("validation")) {
      span.fail(new IllegalStateException("bad node"));
    }
    TraceEvent end = sink.events().getLast();
    assertEquals(TraceLevel.ERROR, end.level());
    assertEquals("validation failed", end.message());
    assertEquals("error", end.attribute(Span.STATUS));
    assertEquals(IllegalStateException.class.getName(), end.attribute(Span.ERROR_TYPE));
    assertEquals("bad node", end.attribute(Span.ERROR_MESSAGE));
  }

  @Test
  void childSpansNameTheirParentAndIdsAreUnique() {
    try (Span outer = tracer.span("pipeline");
        Span inner = outer.child("stage")) {
      assertEquals("s1", outer.id());
      assertEquals("s2", inner.id());
      assertEquals("s1", inner.parentId());
      assertNull(outer.parentId());
    }
    TraceEvent innerStart = sink.events().get(1);
    assertEquals("s1", innerStart.attribute(Span.PARENT));
  }

  @Test
  void withinAttributesEventsAndSpansToTheEnclosingSpan() {
    Span outer = tracer.span("outer");
    Tracer inside = tracer.within(outer);
    assertEquals("s1", inside.currentSpanId());
    assertNull(tracer.currentSpanId());
    inside.info("hello");
    try (Span child = inside.span("child")) {
      assertEquals("s1", child.parentId());
    }
    outer.close();
    TraceEvent hello = sink.events().get(1);
    assertEquals("hello", hello.message());
    assertEquals("s1", hello.spanId());
  }

  @Test
  void derivedTracerSharesTraceIdAndCounters() {
    InMemoryTraceSink other = new InMemoryTraceSink(10);
    Tracer derived = tracer.withSink(other);
    tracer.info("a");
    derived.warn("b");
    assertEquals("trace-1", derived.traceId());
    assertSame(other, derived.sink());
    assertEquals("e1", sink.events().getFirst().id());
    assertEquals("e2", other.events().getFirst().id());
    assertNull(other.events().getFirst().spanId());
  }

  @Test
  void disabledLevelsAreNotBuilt() {
    Tracer filtered = tracer.withSink(new LevelFilterSink(TraceLevel.WARN, sink));
    filtered.info("dropped");
    filtered.event(TraceLevel.ERROR, "kept", Map.of("k", 1));
    assertEquals(1, sink.events().size());
    assertEquals("kept", sink.events().getFirst().message());
    assertFalse(filtered.isEnabled(TraceLevel.DEBUG));
    assertTrue(filtered.isEnabled(TraceLevel.ERROR));
  }

  @Test
  void randomTraceIdsAreSixteenHexDigits() {
    String id = Tracer.create(TraceSink.noop()).traceId();
    assertTrue(id.matches("[0-9a-f]{16}"), id);
  }

  @Test
  void fanOutDeliversToAllAndRethrowsFirstFailure() {
    List<String> seen = new ArrayList<>();
    TraceSink failing1 =
        e -> {
          throw new IllegalStateException("one");
        };
    TraceSink failing2 =
        e -> {
          throw new IllegalArgumentException("two");
        };
    FanOutTraceSink fan = FanOutTraceSink.of(failing1, e -> seen.add(e.id()), failing2, sink);
    TraceEvent ev = TraceEvent.builder(TraceLevel.INFO, "x").id("z").build();
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> fan.record(ev));
    assertEquals("one", e.getMessage());
    assertEquals("two", e.getSuppressed()[0].getMessage());
    assertEquals(List.of("z"), seen);
    assertEquals(1, sink.size());
  }

  @Test
  void levelFilterPassesAtOrAbove() {
    LevelFilterSink f = new LevelFilterSink(TraceLevel.INFO, sink);
    for (TraceLevel l : TraceLevel.values()) {
      f.record(TraceEvent.builder(l, l.name()).build());
    }
    assertEquals(
        List.of("INFO", "WARN", "ERROR"), sink.events().stream().map(TraceEvent::message).toList());
  }

  @Test
  void eventsValidateTheirParts() {
    assertThrows(NullPointerException.class, () -> TraceEvent.builder(null, "m"));
    assertThrows(
        IllegalArgumentException.class,
        () -> TraceEvent.builder(TraceLevel.INFO, "m").attribute("", "v").build());
    TraceEvent e = TraceEvent.builder(TraceLevel.INFO, "m").attribute("b", 1).attribute("a", 2.5).build();
    assertEquals(List.of("a", "b"), List.copyOf(e.attributes().keySet()));
    assertThrows(UnsupportedOperationException.class, () -> e.attributes().put("c", "d"));
  }
}
