package dev.aphelion.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.backend.NullBackend;
import dev.aphelion.core.error.BuildException;
import dev.aphelion.core.graph.BuildGraph;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

class LoggingHookTest {

  /** Collects formatted log lines as "LEVEL message". */
  static final class Lines extends LegacyAbstractLogger {
    private static final long serialVersionUID = 1L;
    final transient List<String> lines = new ArrayList<>();

    @Override
    protected String getFullyQualifiedCallerName() {
      return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(
        Level level, Marker marker, String msg, Object[] args, Throwable t) {
      lines.add(level + " " + MessageFormatter.basicArrayFormat(msg, args));
    }

    @Override
    public boolean isTraceEnabled() {
      return true;
    }

    @Override
    public boolean isDebugEnabled() {
      return true;
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
  void logsStartStagesDigestAndFailure() {
    Lines log = new Lines();
    BuildGraph g = BuildPipelineTest.chain();
    PipelineResult r =
        BuildPipeline.standard().toBuilder().hook(new LoggingHook(log)).build().execute(new NullBackend(), g);
    assertEquals(4, log.lines.size(), log.lines.toString());
    assertEquals("INFO pipeline starting on backend null: 3 nodes, 2 edges", log.lines.get(0));
    assertTrue(log.lines.get(1).matches("INFO stage validation finished in \\d+\\.\\d{3} ms \\(3 nodes\\)"), log.lines.get(1));
    assertTrue(log.lines.get(2).startsWith("INFO stage hashing finished in "), log.lines.get(2));
    assertTrue(log.lines.get(3).endsWith("skipped [], digest " + r.digest().hex()), log.lines.get(3));

    log.lines.clear();
    BuildPipeline failing = BuildPipeline.standard().toBuilder().hook(new LoggingHook(log)).build();
    BuildGraph empty = BuildGraph.builder().build();
    assertThrows(BuildException.class, () -> failing.execute(new NullBackend(), empty));
    assertTrue(log.lines.getLast().startsWith("ERROR pipeline failed in stage validation: "), log.lines.getLast());
  }
}
