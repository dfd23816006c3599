package dev.aphelion.core.trace;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A bounded in-memory sink: a ring buffer holding the newest {@code capacity} events. When full,
 * each new event evicts the oldest one and increments {@link #dropped()}. Thread-safe.
 *
 * <p>Unlike the unbounded sink of the Rust original, memory use is fixed however long a process
 * traces.
 */
public final class InMemoryTraceSink implements TraceSink {
  private final TraceEvent[] ring;
  private int head; // index of the oldest event
  private int size;
  private long dropped;

  /**
   * Creates a sink that keeps at most {@code capacity} events.
   *
   * @param capacity the maximum number of events kept, at least 1
   * @throws IllegalArgumentException if {@code capacity < 1}
   */
  public InMemoryTraceSink(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("trace sink capacity must be >= 1, got " + capacity);
    }
    this.ring = new TraceEvent[capacity];
  }

  @Override
  public synchronized void record(TraceEvent event) {
    Objects.requireNonNull(event, "event");
    if (size < ring.length) {
      ring[(head + size) % ring.length] = event;
      size++;
    } else {
      ring[head] = event;
      head = (head + 1) % ring.length;
      dropped++;
    }
  }

  /**
   * A snapshot of the kept events, oldest first.
   *
   * @return an unmodifiable copy
   */
  public synchronized List<TraceEvent> events() {
    List<TraceEvent> out = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      out.add(ring[(head + i) % ring.length]);
    }
    return List.copyOf(out);
  }

  /**
   * How many events were evicted because the buffer was full.
   *
   * @return the number of dropped events since creation or the last {@link #clear()}
   */
  public synchronized long dropped() {
    return dropped;
  }

  /**
   * How many events are held now.
   *
   * @return the current number of events, at most {@link #capacity()}
   */
  public synchronized int size() {
    return size;
  }

  /**
   * The maximum number of events kept.
   *
   * @return the capacity
   */
  public int capacity() {
    return ring.length;
  }

  /** Removes all events and resets the dropped counter. */
  public synchronized void clear() {
    java.util.Arrays.fill(ring, null);
    head = 0;
    size = 0;
    dropped = 0;
  }
}
