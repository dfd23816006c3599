package dev.aphelion.tritter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
  void nestedAndConcurrentCallsRunEveryUnitOnce() throws Exception {
    try (RowPool pool = RowPool.create(3)) {
      int outer = 40;
      int inner = 50;
      AtomicIntegerArray seen = new AtomicIntegerArray(outer * inner);
      // tasks that call the same pool again run their inner range on their own thread
      RowPool.RangeTask nested = (a, b) -> {
        for (int i = a; i < b; i++) {
          int o = i;
          pool.forRange(inner, 1, (c, d) -> {
            for (int j = c; j < d; j++) {
              seen.incrementAndGet(o * inner + j);
            }
          });
        }
      };
      Thread other = new Thread(() -> pool.forRange(outer / 2, 1, (a, b) -> nested.run(a + outer / 2, b + outer / 2)));
      other.start();
      pool.forRange(outer / 2, 1, nested);
      other.join();
      for (int i = 0; i < outer * inner; i++) {
        assertEquals(1, seen.get(i), "unit " + i);
      }
      // many small calls in a row: the workers are reused between calls
      for (int call = 0; call < 2000; call++) {
        AtomicIntegerArray once = new AtomicIntegerArray(9);
        pool.forRange(9, 1, (a, b) -> {
          for (int i = a; i < b; i++) {
            once.incrementAndGet(i);
          }
        });
        for (int i = 0; i < 9; i++) {
          assertEquals(1, once.get(i), "call " + call + " unit " + i);
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

  @Test
  void sharedPoolIsConfiguredOnlyBeforeItsFirstUse() {
    int p = RowPool.shared().parallelism();
    RowPool.configureShared(p); // the same value again is fine
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> RowPool.configureShared(p + 1));
    assertEquals(true, e.getMessage().contains(p + " threads"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> RowPool.configureShared(0));
    assertEquals(p, RowPool.shared().parallelism());
  }

  /** Prints the shared pool's parallelism (run in a child JVM). */
  static final class PrintShared {
    public static void main(String[] args) {
      System.out.print(RowPool.shared().parallelism());
    }
  }

  static String child(String property) throws Exception {
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    Process p = new ProcessBuilder(List.of(java, "-D" + RowPool.THREADS_PROPERTY + "=" + property, "-cp",
        System.getProperty("java.class.path"), PrintShared.class.getName())).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    org.junit.jupiter.api.Assertions.assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM timed out");
    return out;
  }

  @Test
  void threadsPropertySetsTheSharedPool() throws Exception {
    assertEquals("3", child("3"));
    String bad = child("zero");
    org.junit.jupiter.api.Assertions.assertTrue(bad.contains("aphelion.threads must be a positive integer, got 'zero'"), bad);
  }
}
