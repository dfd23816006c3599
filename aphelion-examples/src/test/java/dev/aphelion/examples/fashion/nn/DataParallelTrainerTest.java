package dev.aphelion.examples.fashion.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.examples.fashion.LabeledImages;
import dev.aphelion.examples.fashion.SyntheticImages;
import dev.aphelion.tritter.compress.CompressionConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

class DataParallelTrainerTest {
  private static final LabeledImages TRAIN = SyntheticImages.make(3000, 12, 10, 0.45, 1);
  private static final LabeledImages TEST = SyntheticImages.make(1000, 12, 10, 0.45, 2);

  @Test
  void ternaryMlpLearnsTheSyntheticTask() {
    Mlp mlp = new Mlp(new MlpLayout(new int[] {144, 64, 32, 10}, Precision.TERNARY), 3);
    TrainOptions opts = new TrainOptions(4, 50, 3e-3f, 20, 0f, 2, 4);
    List<EpochStats> h;
    try (var t = new DataParallelTrainer(mlp, opts, new Float32Exchange(2))) {
      h = t.fit(TRAIN, TEST, TrainingListener.NONE);
      assertEquals(1.0, t.exchange().wireRatio());
      // 60 steps per epoch × 4 epochs × 2 workers, each message the full float32 gradient
      assertEquals(60L * 4 * 2 * 4 * mlp.layout().parameterCount(), t.exchange().wireBytes());
    }
    assertEquals(4, h.size());
    // chance is 0.10; the task's noise leaves a few examples ambiguous
    assertTrue(h.getLast().testAccuracy() >= 0.90, h.toString());
    assertTrue(h.getLast().trainLoss() < h.getFirst().trainLoss(), h.toString());
  }

  @Test
  void compressedGradientsTrainAlmostAsWellAtAThirtySecondOfTheBytes() {
    double[] acc = new double[2];
    double ratio = 0;
    for (int k = 0; k < 2; k++) {
      Mlp mlp = new Mlp(new MlpLayout(new int[] {144, 64, 32, 10}, Precision.TERNARY), 3);
      TrainOptions opts = new TrainOptions(4, 50, 3e-3f, 20, 0f, 2, 4);
      GradientExchange ex = k == 0
          ? new Float32Exchange(2)
          : new CompressedExchange(CompressionConfig.builder().compressionFactor(32).seed(4).build(),
              mlp.layout().parameterCount(), 2);
      try (var t = new DataParallelTrainer(mlp, opts, ex)) {
        acc[k] = t.fit(TRAIN, TEST, TrainingListener.NONE).getLast().testAccuracy();
        if (k == 1) {
          ratio = t.exchange().wireRatio();
        }
      }
    }
    // bytes really serialized per message: the codec fills, but never exceeds, its budget
    assertTrue(ratio >= 32 && ratio < 36, "wire ratio " + ratio);
    assertTrue(acc[1] >= acc[0] - 0.03, "uncompressed " + acc[0] + ", 32x " + acc[1]);
  }

  @Test
  void workersSplitTheBatchWithoutChangingTheUpdate() {
    // the same run on 1 and on 3 workers differs only in float summation order
    float[][] params = new float[2][];
    int[] workers = {1, 3};
    LabeledImages small = TRAIN.head(300);
    for (int k = 0; k < 2; k++) {
      Mlp mlp = new Mlp(new MlpLayout(new int[] {144, 16, 10}, Precision.FLOAT32), 5);
      try (var t = new DataParallelTrainer(
          mlp, new TrainOptions(1, 60, 1e-3f, 0, 0f, workers[k], 6), new Float32Exchange(workers[k]))) {
        t.fit(small, small.head(50), TrainingListener.NONE);
      }
      params[k] = mlp.parameters().clone();
    }
    for (int i = 0; i < params[0].length; i++) {
      assertEquals(params[0][i], params[1][i], 1e-4f, "parameter " + i);
    }
  }

  @Test
  void rejectsMismatchedDataAndOptions() {
    Mlp mlp = new Mlp(new MlpLayout(new int[] {100, 10}, Precision.FLOAT32), 1);
    try (var t = new DataParallelTrainer(mlp, new TrainOptions(1, 8, 1e-3f, 0, 0f, 1, 1),
        new Float32Exchange(1))) {
      assertThrows(ShapeException.class, () -> t.fit(TRAIN, TEST, TrainingListener.NONE));
    }
    assertThrows(ConfigException.class, () -> new TrainOptions(1, 2, 1e-3f, 0, 0f, 3, 1));
    assertThrows(ConfigException.class, () -> new TrainOptions(0, 8, 1e-3f, 0, 0f, 1, 1));
    assertThrows(ConfigException.class, () -> new TrainOptions(1, 8, Float.NaN, 0, 0f, 1, 1));
  }

  @Test
  void scheduleWarmsUpThenDecaysToZero() {
    TrainOptions o = new TrainOptions(1, 8, 1f, 10, 0f, 1, 1);
    assertEquals(0.1f, o.learningRateAt(0, 110), 1e-6f);
    assertEquals(1f, o.learningRateAt(9, 110), 1e-6f);
    assertEquals(1f, o.learningRateAt(10, 110), 1e-6f);
    assertEquals(0.5f, o.learningRateAt(60, 110), 1e-6f);
    assertEquals(0f, o.learningRateAt(110, 110), 1e-6f);
  }
}
