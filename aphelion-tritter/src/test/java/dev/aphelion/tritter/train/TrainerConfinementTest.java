package dev.aphelion.tritter.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ConcurrentModificationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The trainer detects a second thread entering while a step runs, and allows hand-offs. */
class TrainerConfinementTest {

  @Test
  void aSecondThreadInsideAStepIsRefused() throws Exception {
    DeterministicPhaseTrainer t = new DeterministicPhaseTrainer(DeterministicPhaseTrainer.Config.defaults(), 4);
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<float[]> parked = pool.submit(() -> t.step(() -> {
        inside.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          throw new AssertionError(e);
        }
        return new float[] {1, 2, 3, 4};
      }));
      inside.await();
      ConcurrentModificationException e = assertThrows(ConcurrentModificationException.class,
          () -> t.step(() -> new float[4]));
      assertTrue(e.getMessage().contains("not thread-safe"), e.getMessage());
      assertThrows(ConcurrentModificationException.class, t::predict);
      release.countDown();
      parked.get();
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
    assertEquals(1, t.steps());
    t.step(() -> new float[] {1, 2, 3, 4}); // released: usable again, from another thread
    t.predict();
  }
}
