package dev.aphelion.tritter.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ConfigException;
import dev.aphelion.tritter.nn.TernaryLayer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Training on the public API: convergence, export, optimizers, schedule and the step details. */
class TrainingTest {
  static final Examples TRAIN = SyntheticDigits.generate(1203, 1);
  static final Examples TEST = SyntheticDigits.generate(500, 2);

  static Sequential bitnetMlp(long seed) {
    return Sequential.builder(64).rmsNorm().ternary(96).relu().rmsNorm().ternary(10).build(seed);
  }

  static TrainingConfig config(int epochs) {
    return TrainingConfig.of(epochs, 64, LearningRateSchedule.warmupCosine(0.01, 20))
        .withOptimizer(OptimizerConfig.AdamW.defaults(1e-4f));
  }

  @Test
  void ternaryMlpLearnsDigitsAndTheExportPredictsTheSame() {
    Sequential model = bitnetMlp(11);
    double before = (double) model.evaluate(TEST).correct() / TEST.count();
    TrainingResult r = DataParallelTrainer.fit(model, TRAIN, TEST, config(6), 1, ExchangeSettings.float32());
    EpochStats last = r.epochs().getLast();
    assertTrue(last.evalAccuracy() >= 0.95, "test accuracy " + last.evalAccuracy() + " (before training " + before + ")");
    assertTrue(last.trainLoss() < r.epochs().getFirst().trainLoss(), "loss falls: " + r.epochs());
    // every example of every epoch was seen once, the short last batch included (1203 = 18·64 + 51)
    assertEquals(TRAIN.count(), last.seen());
    assertEquals(6L * 19, r.workers().getFirst().steps());

    InferenceNetwork net = model.export();
    assertInstanceOf(TernaryLayer.class, ((InferenceNetwork.Linear) net.stages().get(1)).layer());
    assertEquals(TernaryLayer.Activations.INT8, ((TernaryLayer) ((InferenceNetwork.Linear) net.stages().get(1)).layer()).activations());
    float[] trained = model.forward(TEST.features(), TEST.count());
    float[] exported = net.forward(TEST.features(), TEST.count());
    assertArrayEquals(trained, exported, "the exported network computes the training forward pass bit for bit");
    int[] predicted = net.predict(TEST.features(), TEST.count());
    int correct = 0;
    for (int i = 0; i < predicted.length; i++) {
      correct += predicted[i] == TEST.labels()[i] ? 1 : 0;
    }
    assertEquals(last.evalCorrect(), correct, "the exported network scores what the trainer measured");
  }

  @Test
  void sgdWithMomentumAndADenseModelLearnToo() {
    Sequential model = Sequential.builder(64).dense(64).activation(Activation.SILU).dense(10).build(5);
    TrainingConfig cfg = TrainingConfig.of(4, 32, LearningRateSchedule.warmupCosine(0.05, 10))
        .withOptimizer(new OptimizerConfig.Sgd(0.9f, 1e-4f)).withClipNorm(5.0);
    TrainingResult r = DataParallelTrainer.fit(model, TRAIN, TEST, cfg, 1, ExchangeSettings.float32());
    assertTrue(r.epochs().getLast().evalAccuracy() >= 0.95, "SGD test accuracy " + r.epochs().getLast().evalAccuracy());
  }

  @Test
  void lossScalingAndMicroBatchesGiveTheSameStep() {
    // one plain SGD step on 64 rows, four ways: the steps agree to rounding
    Examples rows = TRAIN.slice(0, 64);
    TrainingConfig one = TrainingConfig.of(1, 64, LearningRateSchedule.constant(1e-2)).withOptimizer(new OptimizerConfig.Sgd(0f, 0f));
    float[] p0 = bitnetMlp(3).parameters();
    float[][] after = new float[4][];
    TrainingConfig[] configs = {one, one.withLossScaling(true), one.withMicroBatch(16), one.withMicroBatch(10).withLossScaling(true)};
    for (int k = 0; k < 4; k++) {
      Sequential m = bitnetMlp(3);
      TrainingResult r = DataParallelTrainer.fit(m, rows, null, configs[k], 1, ExchangeSettings.float32());
      assertEquals(1, r.workers().getFirst().steps());
      assertEquals(0, r.workers().getFirst().skippedSteps());
      after[k] = m.parameters();
    }
    double step = 0;
    for (int i = 0; i < p0.length; i++) {
      step = Math.max(step, Math.abs(after[0][i] - p0[i]));
    }
    assertTrue(step > 1e-4, "the step moved the weights: " + step);
    for (int k = 1; k < 4; k++) {
      double diff = 0;
      for (int i = 0; i < p0.length; i++) {
        diff = Math.max(diff, Math.abs(after[k][i] - after[0][i]));
      }
      assertTrue(diff < 1e-4 * step, "variant " + k + " differs by " + diff + " (step " + step + ")");
    }
  }

  @Test
  void adamWAndSgdFollowTheirFormulas() {
    float[] p = {1f, -2f};
    float[] g = {0.5f, -0.25f};
    Optimizer adam = new OptimizerConfig.AdamW(0.9f, 0.999f, 1e-8f, 0.1f).create(2);
    adam.step(p, g, 0.01f);
    // first step: m̂ = g, v̂ = g², so the update is lr·sign(g), plus the decoupled decay lr·λ·p
    assertEquals(1f - 0.01f - 0.01f * 0.1f * 1f, p[0], 1e-6f);
    assertEquals(-2f + 0.01f - 0.01f * 0.1f * -2f, p[1], 1e-6f);
    assertEquals(1, adam.steps());

    float[] q = {1f};
    Optimizer sgd = new OptimizerConfig.Sgd(0.5f, 0f).create(1);
    sgd.step(q, new float[] {1f}, 0.1f); // v = 1, q = 0.9
    sgd.step(q, new float[] {1f}, 0.1f); // v = 1.5, q = 0.75
    assertEquals(0.75f, q[0], 1e-6f);
    assertThrows(ConfigException.class, () -> new OptimizerConfig.AdamW(1f, 0.9f, 1e-8f, 0f));
    assertThrows(ConfigException.class, () -> new OptimizerConfig.Sgd(-0.1f, 0f));
  }

  @Test
  void warmupThenCosine() {
    LearningRateSchedule s = LearningRateSchedule.warmupCosine(0.1, 10);
    assertEquals(0.01f, s.at(0, 100), 1e-7f);
    assertEquals(0.1f, s.at(9, 100), 1e-7f);
    assertEquals(0.1f, s.at(10, 100), 1e-7f);
    assertEquals(0.05f, s.at(54, 100), 0.002f);
    assertEquals(0f, s.at(99, 100), 1e-7f);
    for (int t = 10; t < 99; t++) {
      assertTrue(s.at(t + 1, 100) <= s.at(t, 100), "decreasing at " + t);
    }
    assertEquals(0.3f, LearningRateSchedule.constant(0.3).at(1000, 10), 0f);
    assertThrows(ConfigException.class, () -> LearningRateSchedule.warmupCosine(0, 1));
  }

  @Test
  void clippingScalesToTheNorm() {
    float[] g = {3f, 4f};
    assertEquals(5.0, GradientClipping.clipByGlobalNorm(g, 1.0), 1e-9);
    assertEquals(1.0, GradientClipping.norm(g), 1e-6);
    float[] small = {0.3f, 0.4f};
    GradientClipping.clipByGlobalNorm(small, 1.0);
    assertArrayEquals(new float[] {0.3f, 0.4f}, small);
    assertThrows(ConfigException.class, () -> GradientClipping.clipByGlobalNorm(g, 0));
  }

  @Test
  void aDivergingRunFailsClearlyWithoutLossScalingAndSkipsStepsWithIt() {
    Examples bad = new Examples(filled(64 * 64, Float.MAX_VALUE / 2), new int[64], 64, 10);
    TrainingConfig cfg = TrainingConfig.of(1, 64, LearningRateSchedule.constant(1e-3));
    Sequential m = Sequential.builder(64).dense(10).build(1);
    AphelionException e = assertThrows(AphelionException.class,
        () -> DataParallelTrainer.fit(m, bad, null, cfg, 1, ExchangeSettings.float32()));
    assertTrue(e.getMessage().contains("not finite"), e.getMessage());
    float[] before = m.parameters().clone();
    TrainingResult r = DataParallelTrainer.fit(m, bad, null, cfg.withLossScaling(true), 1, ExchangeSettings.float32());
    assertEquals(1, r.workers().getFirst().skippedSteps());
    assertArrayEquals(before, m.parameters(), "a skipped step leaves the weights alone");
    assertFalse(Arrays.equals(new float[0], before));
  }

  private static float[] filled(int n, float v) {
    float[] a = new float[n];
    Arrays.fill(a, v);
    return a;
  }
}
