package dev.aphelion.core.trace;

import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * Writes events to an SLF4J logger through the fluent API: the attributes, span id and trace id
 * become key/value pairs, so structured logging back ends keep them as fields.
 */
public final class Slf4jTraceSink implements TraceSink {
  /** The logger name used by {@link #Slf4jTraceSink()}. */
  public static final String DEFAULT_LOGGER = "dev.aphelion.trace";

  private final Logger logger;

  /** Creates a sink writing to the logger {@value #DEFAULT_LOGGER}. */
  public Slf4jTraceSink() {
    this(LoggerFactory.getLogger(DEFAULT_LOGGER));
  }

  /**
   * Creates a sink writing to the given logger.
   *
   * @param logger the logger
   */
  public Slf4jTraceSink(Logger logger) {
    this.logger = Objects.requireNonNull(logger, "logger");
  }

  /**
   * Maps a trace level to the SLF4J level of the same name.
   *
   * @param level the trace level
   * @return the SLF4J level
   */
  public static Level toSlf4j(TraceLevel level) {
    return switch (level) {
      case TRACE -> Level.TRACE;
      case DEBUG -> Level.DEBUG;
      case INFO -> Level.INFO;
      case WARN -> Level.WARN;
      case ERROR -> Level.ERROR;
    };
  }

  @Override
  public boolean isEnabled(TraceLevel level) {
    return logger.isEnabledForLevel(toSlf4j(level));
  }

  @Override
  public void record(TraceEvent event) {
    Level level = toSlf4j(event.level());
    if (!logger.isEnabledForLevel(level)) {
      return;
    }
    LoggingEventBuilder b = logger.atLevel(level);
    for (Map.Entry<String, String> e : event.attributes().entrySet()) {
      b = b.addKeyValue(e.getKey(), e.getValue());
    }
    if (event.spanId() != null) {
      b = b.addKeyValue("span", event.spanId());
    }
    if (event.traceId() != null) {
      b = b.addKeyValue("trace", event.traceId());
    }
    b.log(event.message());
  }
}
