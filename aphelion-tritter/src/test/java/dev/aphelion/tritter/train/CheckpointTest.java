package dev.aphelion.tritter.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.compress.CompressionConfig;
import dev.aphelion.tritter.compress.GradientCompressor;
import dev.aphelion.tritter.kernel.Vectorization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints of data-parallel training: a run stopped mid-way and resumed ends where the
 * uninterrupted run ends; corrupt and foreign checkpoints are refused with the reason. The
 * bit-for-bit comparison under {@code -Daphelion.kernels=scalar} is in aphelion-spark's
 * ResumeTest, whose JVM pins the scalar kernels.
 */
class CheckpointTest {
  static final Examples TRAIN = SyntheticDigits.generate(700, 1);
  static final Examples TEST = SyntheticDigits.generate(300, 2);

  static Sequential model() {
    return Sequential.builder(64).rmsNorm().ternary(64).relu().rmsNorm().ternary(10).build(5);
  }

  /** 4 epochs of 6 steps over 3 workers (local batch 43, each last batch short), micro-batches and loss scaling. */
  static TrainingConfig config() {
    return TrainingConfig.of(4, 128, LearningRateSchedule.warmupCosine(0.02, 4))
        .withOptimizer(OptimizerConfig.AdamW.defaults(1e-4f)).withMicroBatch(20).withLossScaling(true).withSeed(3);
  }

  private static final StepListener STOP_AT_13 = (rank, steps) -> {
    if (rank == 1 && steps == 13) {
      throw new IllegalStateException("injected failure of worker 1 after step 13");
    }
  };

  private static TrainingResult stopThenResume(Path dir, TrainingConfig cfg, ExchangeSettings ex, Sequential into) {
    CheckpointSettings ck = CheckpointSettings.every(dir, 5);
    AphelionException e = assertThrows(AphelionException.class,
        () -> DataParallelTrainer.fit(model(), TRAIN, TEST, cfg, 3, ex, ck, STOP_AT_13));
    assertTrue(String.valueOf(e.getMessage()).contains("injected failure"), e.getMessage());
    assertEquals(10, ck.latestComplete(3), "the last checkpoint before step 13 is at 10 steps");
    return DataParallelTrainer.fit(into, TRAIN, TEST, cfg, 3, ex, ck, null);
  }

  @Test
  void aRunStoppedAfterStep13AndResumedEndsLikeTheUninterruptedRun(@TempDir Path dir) {
    ExchangeSettings c32 = ExchangeSettings.compressed(32, 9);
    Sequential straight = model();
    TrainingResult full = DataParallelTrainer.fit(straight, TRAIN, TEST, config(), 3, c32);
    Sequential resumed = model();
    TrainingResult r = stopThenResume(dir, config(), c32, resumed);
    assertEquals(24 - 10, r.workers().getFirst().steps(), "the second run ran only the steps after the checkpoint");
    assertEquals(full.epochs().size(), r.epochs().size(), "the epochs before the checkpoint come from it");
    float[] a = straight.parameters();
    float[] b = resumed.parameters();
    if (Vectorization.get().mode() == Vectorization.Mode.SCALAR) {
      assertArrayEquals(a, b, "scalar kernels: bit for bit");
      assertEquals(full.epochs().getLast().evalCorrect(), r.epochs().getLast().evalCorrect());
    } else {
      // the Vector API's float reductions may add in another order before and after C2 compiles
      // them; the runs then differ in last bits, which the ternary rounding can amplify a little
      double diff = 0;
      double norm = 0;
      for (int i = 0; i < a.length; i++) {
        diff += (a[i] - b[i]) * (double) (a[i] - b[i]);
        norm += a[i] * (double) a[i];
      }
      assertTrue(Math.sqrt(diff) <= 0.05 * Math.sqrt(norm), "relative difference " + Math.sqrt(diff / norm));
      assertTrue(Math.abs(full.epochs().getLast().evalAccuracy() - r.epochs().getLast().evalAccuracy()) <= 0.03);
    }
    for (int e = 0; e < full.epochs().size(); e++) {
      assertEquals(full.epochs().get(e).seen(), r.epochs().get(e).seen(), "epoch " + (e + 1) + " rows");
    }
    try (var files = Files.list(dir)) {
      assertEquals(6, files.filter(p -> p.toString().endsWith(".ckpt")).count(), "two files per worker kept");
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void corruptTruncatedAndForeignFilesAreRefusedWithTheReason(@TempDir Path dir) throws IOException {
    TrainingConfig cfg = config();
    ExchangeSettings f32 = ExchangeSettings.float32();
    CheckpointSettings ck = CheckpointSettings.every(dir, 5);
    assertThrows(AphelionException.class, () -> DataParallelTrainer.fit(model(), TRAIN, null, cfg, 3, f32, ck, STOP_AT_13));
    Path file = ck.file(10, 2, 3);
    byte[] good = Files.readAllBytes(file);

    byte[] flipped = good.clone();
    flipped[good.length / 2] ^= 0x10;
    Files.write(file, flipped);
    SerializationException corrupt = assertThrows(SerializationException.class,
        () -> DataParallelTrainer.fit(model(), TRAIN, null, cfg, 3, f32, ck, null));
    assertTrue(corrupt.getMessage().contains("corrupt") && corrupt.getMessage().contains(file.toString()), corrupt.getMessage());

    Files.write(file, java.util.Arrays.copyOf(good, good.length - 9));
    assertThrows(SerializationException.class, () -> DataParallelTrainer.fit(model(), TRAIN, null, cfg, 3, f32, ck, null));

    byte[] version = good.clone();
    version[4] = 7;
    Files.write(file, version);
    SerializationException v = assertThrows(SerializationException.class,
        () -> DataParallelTrainer.fit(model(), TRAIN, null, cfg, 3, f32, ck, null));
    assertTrue(v.getMessage().contains("version 7"), v.getMessage());

    Files.write(file, good);
    ConfigException lr = assertThrows(ConfigException.class, () -> DataParallelTrainer.fit(model(), TRAIN, null,
        cfg.withOptimizer(OptimizerConfig.AdamW.defaults(1e-3f)), 3, f32, ck, null));
    assertTrue(lr.getMessage().contains("training config"), lr.getMessage());
    ConfigException data = assertThrows(ConfigException.class,
        () -> DataParallelTrainer.fit(model(), SyntheticDigits.generate(700, 4), null, cfg, 3, f32, ck, null));
    assertTrue(data.getMessage().contains("other training data"), data.getMessage());
    ConfigException enc = assertThrows(ConfigException.class,
        () -> DataParallelTrainer.fit(model(), TRAIN, null, cfg, 3, ExchangeSettings.compressed(32, 1), ck, null));
    assertTrue(enc.getMessage().contains("exchange settings"), enc.getMessage());
    // with the good file back, the job resumes and finishes
    TrainingResult done = DataParallelTrainer.fit(model(), TRAIN, null, cfg, 3, f32, ck, null);
    assertEquals(14, done.workers().getFirst().steps());
    assertEquals(-1, CheckpointSettings.every(dir.resolve("none"), 5).latestComplete(3));
    assertEquals(-1, ck.latestComplete(2), "a checkpoint of 3 workers is not one of 2");
  }

  @Test
  void optimizerScalerAndCompressorStateRoundTrip() {
    float[] p = {1f, -2f, 0.5f};
    float[] g = {0.25f, -0.5f, 1f};
    for (OptimizerConfig oc : List.of(OptimizerConfig.AdamW.defaults(0.01f), new OptimizerConfig.Sgd(0.9f, 0.01f))) {
      Optimizer a = oc.create(3);
      a.step(p.clone(), g, 0.1f);
      Optimizer b = oc.create(3);
      b.restore(a.state());
      float[] pa = p.clone();
      float[] pb = p.clone();
      a.step(pa, g, 0.1f);
      b.step(pb, g, 0.1f);
      assertArrayEquals(pa, pb, oc + ": the restored optimizer takes the same step");
      assertEquals(2, b.steps());
      assertThrows(ShapeException.class, () -> oc.create(4).restore(a.state()));
    }
    assertThrows(ShapeException.class,
        () -> OptimizerConfig.AdamW.defaults(0).create(3).restore(new OptimizerConfig.Sgd(0.9f, 0).create(3).state()));

    LossScaler s = new LossScaler();
    s.update(true);
    s.update(false);
    LossScaler t = new LossScaler();
    t.restore(s.scale(), s.cleanSteps(), s.skippedSteps());
    assertEquals(32768.0, t.scale());
    assertEquals(1, t.cleanSteps());
    assertEquals(1, t.skippedSteps());
    assertThrows(ConfigException.class, () -> t.restore(0.5, 0, 0));

    CompressionConfig cc = CompressionConfig.builder().compressionFactor(8).seed(4).build();
    GradientCompressor c1 = new GradientCompressor(cc, 500);
    float[] grad = new float[500];
    for (int i = 0; i < grad.length; i++) {
      grad[i] = (float) Math.sin(i * 0.37) * (i % 7 == 0 ? 3 : 1);
    }
    c1.compress(grad);
    GradientCompressor c2 = new GradientCompressor(cc, 500);
    c2.restore(c1.step(), c1.residual());
    assertArrayEquals(c1.compress(grad).toBytes(), c2.compress(grad).toBytes(), "same residual and step: same message");
    float[] nan = new float[500];
    nan[3] = Float.NaN;
    assertThrows(ShapeException.class, () -> c2.restore(1, nan));
    assertThrows(ShapeException.class, () -> c2.restore(1, new float[499]));
  }
}
