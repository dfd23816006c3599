package dev.aphelion.core.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.event.LoggingEvent;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.spi.LoggingEventAware;
import org.junit.jupiter.api.Test;

class Slf4jTraceSinkTest {

  /** Captures fluent-API events with their key/value pairs; INFO and above enabled. */
  static final class CapturingLogger extends LegacyAbstractLogger implements LoggingEventAware {
    private static final long serialVersionUID = 1L;
    final transient List<LoggingEvent> events = new ArrayList<>();

    CapturingLogger() {
      this.name = "capture";
    }

    @Override
    public void log(LoggingEvent event) {
      events.add(event);
    }

    @Override
    protected String getFullyQualifiedCallerName() {
      return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(
        Level level, Marker marker, String msg, Object[] args, Throwable t) {
      throw new AssertionError("the sink must use the fluent API");
    }

    @Override
    public boolean isTraceEnabled() {
      return false;
    }

    @Override
    public boolean isDebugEnabled() {
      return false;
    }

    @Override
    public boolean isInfoEnabled() {
      return true;
    }

    @Override
    public boolean isWarnEnabled() {
      return true;
    }

    @Override
    public boolean isErrorEnabled() {
      return true;
    }
  }

  @Test
  void writesMessageLevelAndKeyValues() {
    CapturingLogger logger = new CapturingLogger();
    Slf4jTraceSink sink = new Slf4jTraceSink(logger);
    sink.record(
        TraceEvent.builder(TraceLevel.WARN, "stage slow")
            .attribute("stage", "hashing")
            .attribute("duration_ns", 12)
            .spanId("s3")
            .traceId("t9")
            .build());
    assertEquals(1, logger.events.size());
    LoggingEvent e = logger.events.getFirst();
    assertEquals(Level.WARN, e.getLevel());
    assertEquals("stage slow", e.getMessage());
    assertEquals(
        List.of("duration_ns:12", "stage:hashing", "span:s3", "trace:t9"),
        e.getKeyValuePairs().stream().map(kv -> kv.key + ":" + kv.value).toList());
  }

  @Test
  void disabledLevelsAreDroppedAndReported() {
    CapturingLogger logger = new CapturingLogger();
    Slf4jTraceSink sink = new Slf4jTraceSink(logger);
    sink.record(TraceEvent.builder(TraceLevel.DEBUG, "quiet").build());
    sink.record(TraceEvent.builder(TraceLevel.TRACE, "quieter").build());
    assertTrue(logger.events.isEmpty());
    assertFalse(sink.isEnabled(TraceLevel.DEBUG));
    assertTrue(sink.isEnabled(TraceLevel.INFO));
    sink.record(TraceEvent.builder(TraceLevel.ERROR, "loud").build());
    assertEquals(List.of("loud"), logger.events.stream().map(LoggingEvent::getMessage).toList());
    List<?> kvs = logger.events.getFirst().getKeyValuePairs();
    assertTrue(kvs == null || kvs.isEmpty(), "no attributes, no key/value pairs");
  }

  @Test
  void levelsMapByName() {
    for (TraceLevel l : TraceLevel.values()) {
      assertEquals(l.name(), Slf4jTraceSink.toSlf4j(l).name());
    }
  }
}
