package dev.aphelion.tritter.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ShapeException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class TrainingUtilitiesTest {

  @Test
  void accumulatorMeanOfSeedSemantics() {
    GradientAccumulator acc = new GradientAccumulator(4);
    acc.add(new float[] {1, 2, 3, 4});
    acc.add(new float[] {2, 4, 6, 8});
    assertEquals(2, acc.count());
    assertArrayEquals(new float[] {1.5f, 3f, 4.5f, 6f}, acc.getAndReset());
    assertEquals(0, acc.count());
    assertThrows(ShapeException.class, acc::getAndReset);
    assertThrows(ShapeException.class, () -> acc.add(new float[3]));
  }

  @Test
  void lossScalerFollowsGradScaler() {
    LossScaler s = new LossScaler();
    assertEquals(65536.0, s.scale());
    assertEquals(131072.0, s.scaleLoss(2.0));
    float[] bad = {1f, Float.POSITIVE_INFINITY};
    AtomicInteger applied = new AtomicInteger();
    assertFalse(s.step(bad, g -> applied.incrementAndGet()), "overflow skips the step");
    assertEquals(0, applied.get());
    assertEquals(32768.0, s.scale());
    for (int i = 0; i < 1999; i++) {
      assertTrue(s.step(new float[] {32768f, -65536f}, g -> applied.incrementAndGet()));
    }
    assertEquals(32768.0, s.scale(), "no growth before 2000 clean steps");
    float[] g = {32768f, -65536f};
    assertTrue(s.step(g, x -> applied.incrementAndGet()));
    assertArrayEquals(new float[] {1f, -2f}, g, "gradients unscaled in place");
    assertEquals(65536.0, s.scale(), "after 2000 clean steps");
    assertEquals(2000, applied.get());
    assertEquals(1, s.skippedSteps());
    float[] nan = {Float.NaN};
    s.step(nan, x -> applied.incrementAndGet());
    assertEquals(0, s.cleanSteps());
  }

  @Test
  void lossScalerBounds() {
    LossScaler s = new LossScaler(4.0, 2.0, 0.5, 1, 2.0, 8.0);
    s.update(true);
    s.update(true);
    assertEquals(2.0, s.scale(), "clamped at the minimum");
    s.update(false);
    s.update(false);
    s.update(false);
    assertEquals(8.0, s.scale(), "clamped at the maximum");
    assertThrows(ConfigException.class, () -> new LossScaler(1.0, 2.0, 0.5, 10, 2.0, 8.0));
    assertThrows(ConfigException.class, () -> new LossScaler(4.0, 1.0, 0.5, 10, 2.0, 8.0));
    assertThrows(ConfigException.class, () -> new LossScaler(4.0, 2.0, 1.0, 10, 2.0, 8.0));
    assertThrows(ConfigException.class, () -> new LossScaler(4.0, 2.0, 0.5, 0, 2.0, 8.0));
  }

  @Test
  void phaseScheduleOfSeedSemantics() {
    assertEquals("WWWFFPPCPCFFPPCPCFFP", DeterministicPhaseTrainer.schedule(new DeterministicPhaseTrainer.Config(3, 2, 4, 2), 20));
    DeterministicPhaseTrainer t = new DeterministicPhaseTrainer(DeterministicPhaseTrainer.Config.defaults(), 2);
    for (int i = 0; i < 100; i++) {
      t.step(() -> new float[] {1f, 2f});
    }
    assertEquals(43, t.backwardPasses());
    assertEquals(100.0 / 43, t.stepsPerBackwardPass(), 1e-12);
    assertThrows(ConfigException.class, () -> new DeterministicPhaseTrainer.Config(0, 1, 1, 1));
  }

  @Test
  void predictorExtrapolatesLinearGradientsExactly() {
    DeterministicPhaseTrainer t = new DeterministicPhaseTrainer(new DeterministicPhaseTrainer.Config(3, 2, 4, 2), 3);
    AtomicInteger backward = new AtomicInteger();
    for (int s = 0; s < 40; s++) {
      final int step = s;
      DeterministicPhaseTrainer.Phase p = t.phase();
      float[] g = t.step(() -> {
        backward.incrementAndGet();
        return new float[] {2f + 0.5f * step, -step, 7f};
      });
      if (p == DeterministicPhaseTrainer.Phase.PREDICT) {
        assertEquals(2f + 0.5f * s, g[0], 1e-3, "step " + s);
        assertEquals(-s, g[1], 1e-3, "step " + s);
        assertEquals(7f, g[2], 1e-3, "step " + s);
      }
    }
    assertEquals(t.backwardPasses(), backward.get(), "predict steps never call backward");
    assertTrue(t.backwardPasses() < 40);
    assertThrows(ShapeException.class, () -> new DeterministicPhaseTrainer(DeterministicPhaseTrainer.Config.defaults(), 3).predict());
  }

  @Test
  void correctStepUpdatesTheResidualEma() {
    DeterministicPhaseTrainer t = new DeterministicPhaseTrainer(new DeterministicPhaseTrainer.Config(1, 1, 1, 1), 1);
    assertEquals("WFPCFPC", DeterministicPhaseTrainer.schedule(t.config(), 7));
    t.step(() -> new float[] {1f}); // W
    t.step(() -> new float[] {1f}); // F
    assertEquals(1f, t.step(() -> new float[] {99f})[0], 1e-6, "P: flat history predicts 1");
    t.step(() -> new float[] {5f}); // C: prediction 1, residual 0.95*0 + 0.05*(5-1)
    assertEquals(0.2f, t.residual()[0], 1e-6);
  }
}
