package dev.aphelion.core.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class InMemoryTraceSinkTest {

  private static TraceEvent ev(int i) {
    return TraceEvent.builder(TraceLevel.INFO, "m" + i).id("e" + i).build();
  }

  @Test
  void keepsEverythingBelowCapacity() {
    InMemoryTraceSink sink = new InMemoryTraceSink(4);
    for (int i = 0; i < 3; i++) {
      sink.record(ev(i));
    }
    assertEquals(List.of("e0", "e1", "e2"), sink.events().stream().map(TraceEvent::id).toList());
    assertEquals(0, sink.dropped());
    assertEquals(3, sink.size());
  }

  @Test
  void dropsOldestAndCounts() {
    InMemoryTraceSink sink = new InMemoryTraceSink(3);
    for (int i = 0; i < 8; i++) {
      sink.record(ev(i));
    }
    assertEquals(List.of("e5", "e6", "e7"), sink.events().stream().map(TraceEvent::id).toList());
    assertEquals(5, sink.dropped());
    assertEquals(3, sink.size());
    sink.clear();
    assertEquals(List.of(), sink.events());
    assertEquals(0, sink.dropped());
    sink.record(ev(9));
    assertEquals(List.of("e9"), sink.events().stream().map(TraceEvent::id).toList());
  }

  @Test
  void capacityOneKeepsTheNewest() {
    InMemoryTraceSink sink = new InMemoryTraceSink(1);
    sink.record(ev(1));
    sink.record(ev(2));
    assertEquals("e2", sink.events().getFirst().id());
    assertEquals(1, sink.dropped());
  }

  @Test
  void rejectsBadCapacity() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new InMemoryTraceSink(0));
    assertEquals("trace sink capacity must be >= 1, got 0", e.getMessage());
  }

  @Test
  void concurrentRecordingLosesNothingUncounted() throws InterruptedException {
    InMemoryTraceSink sink = new InMemoryTraceSink(100);
    int threads = 4;
    int perThread = 5_000;
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int base = t * perThread;
      workers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      start.await();
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                    for (int i = 0; i < perThread; i++) {
                      sink.record(ev(base + i));
                    }
                  }));
    }
    start.countDown();
    for (Thread w : workers) {
      w.join();
    }
    assertEquals(100, sink.size());
    assertEquals((long) threads * perThread - 100, sink.dropped());
    Set<String> ids = new HashSet<>();
    sink.events().forEach(e -> ids.add(e.id()));
    assertEquals(100, ids.size());
  }
}
