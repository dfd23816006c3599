package dev.aphelion.tritter.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class RowPoolTest {

  @Test
  void everyUnitRunsExactlyOnce() {
    try (RowPool pool = RowPool.create(4)) {
      for (int units : new int[] {0, 1, 7, 100, 1001}) {
        for (int min : new int[] {1, 3, 50}) {
          AtomicIntegerArray seen = new AtomicIntegerArray(Math.max(1, units));
          pool.forRange(units, min, (a, b) -> {
            for (int i = a; i < b; i++) {
              seen.incrementAndGet(i);
            }
          });
          for (int i = 0; i < units; i++) {
            assertEquals(1, seen.get(i), "unit " + i + " of " + units);
          }
        }
      }
    }
  }

  @Test
  void failuresPropagate() {
    try (RowPool pool = RowPool.create(2)) {
      IllegalArgumentException boom = new IllegalArgumentException("boom");
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pool.forRange(100, 1, (a, b) -> {
        throw boom;
      }));
      assertSame(boom, e);
    }
    assertThrows(IllegalArgumentException.class, () -> RowPool.create(0));
  }
}
