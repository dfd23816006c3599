package dev.aphelion.core.fuzz;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.SerializationException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The harness itself: it catches foreign exceptions and excess allocation. */
class FuzzHarnessTest {
  static final List<byte[]> SEEDS = List.of(new byte[] {1, 2, 3});

  @Test
  void libraryExceptionsPassOthersFail() {
    Fuzz.run("harness-ok", SEEDS, n -> 1 << 20, in -> {
      throw new SerializationException("rejected");
    });
    AssertionError e = assertThrows(AssertionError.class, () -> Fuzz.run("harness-bad", SEEDS, n -> 1 << 20, in -> {
      throw new IllegalStateException("boom");
    }));
    assertTrue(e.getMessage().contains("replay with") && e.getMessage().contains("IllegalStateException"), e.getMessage());
  }

  @Test
  void excessAllocationFails() {
    assertTrue(Fuzz.allocated() >= 0, "this JVM reports per-thread allocation");
    AssertionError e = assertThrows(AssertionError.class, () -> Fuzz.run("harness-alloc", SEEDS, n -> 1 << 20, in -> {
      byte[] big = new byte[8 << 20];
      big[in.length] = 1;
    }));
    assertTrue(e.getMessage().contains("allocated"), e.getMessage());
  }
}
