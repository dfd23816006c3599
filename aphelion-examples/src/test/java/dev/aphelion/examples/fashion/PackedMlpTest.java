package dev.aphelion.examples.fashion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.examples.fashion.nn.DataParallelTrainer;
import dev.aphelion.examples.fashion.nn.Float32Exchange;
import dev.aphelion.examples.fashion.nn.Mlp;
import dev.aphelion.examples.fashion.nn.MlpLayout;
import dev.aphelion.examples.fashion.nn.Precision;
import dev.aphelion.examples.fashion.nn.TrainOptions;
import dev.aphelion.examples.fashion.nn.TrainingListener;
import dev.aphelion.examples.fashion.nn.Worker;
import dev.aphelion.tritter.nn.DenseLayer;
import dev.aphelion.tritter.nn.TernaryLayer;
import org.junit.jupiter.api.Test;

class PackedMlpTest {
  private static final LabeledImages TRAIN = SyntheticImages.make(1200, 12, 10, 0.45, 11);
  private static final LabeledImages TEST = SyntheticImages.make(300, 12, 10, 0.45, 12);

  private static double lastTestAccuracy;

  private static Mlp trained(Precision p) {
    Mlp mlp = new Mlp(new MlpLayout(new int[] {144, 48, 24, 10}, p), 13);
    try (var t = new DataParallelTrainer(mlp, new TrainOptions(3, 40, 3e-3f, 10, 0f, 2, 14),
        new Float32Exchange(2))) {
      lastTestAccuracy = t.fit(TRAIN, TEST, TrainingListener.NONE).getLast().testAccuracy();
    }
    return mlp;
  }

  private static void assertSameLogits(Mlp mlp, PackedMlp packed) {
    int rows = 37;
    float[] expected = new float[rows * 10];
    new Worker(mlp.layout(), rows).logits(mlp, mlp.snapshot(), TEST.pixels(), 5 * 144, rows, expected);
    float[] got = new float[rows * 10];
    packed.logits(TEST.pixels(), 5 * 144, rows, got);
    for (int i = 0; i < expected.length; i++) {
      // the same integer products; only the order of the final scale multiplications differs
      assertEquals(expected[i], got[i], 1e-4f * (1 + Math.abs(expected[i])), "logit " + i);
    }
  }

  @Test
  void packedTernaryModelComputesTheTrainedFunction() {
    Mlp mlp = trained(Precision.TERNARY);
    PackedMlp packed = PackedMlp.of(mlp);
    assertTrue(packed.layers().stream().allMatch(l -> l instanceof TernaryLayer t
        && t.activations() == TernaryLayer.Activations.INT8));
    assertSameLogits(mlp, packed);
    // the packed model classifies the test set as the trainer's evaluation did (one image of
    // slack for a logit tie broken differently by the last rounding)
    assertEquals(lastTestAccuracy, packed.accuracy(TEST, 64), 1.0 / TEST.count() + 1e-12);
  }

  @Test
  void float32ModelUsesDenseLayers() {
    Mlp mlp = trained(Precision.FLOAT32);
    PackedMlp packed = PackedMlp.of(mlp);
    assertTrue(packed.layers().stream().allMatch(l -> l instanceof DenseLayer));
    assertSameLogits(mlp, packed);
  }

  @Test
  void ternaryWeightsTakeAboutSixteenTimesLessMemory() {
    Mlp mlp = new Mlp(new MlpLayout(new int[] {784, 256, 128, 10}, Precision.TERNARY), 1);
    PackedMlp ternary = PackedMlp.of(mlp);
    Mlp f = new Mlp(new MlpLayout(new int[] {784, 256, 128, 10}, Precision.FLOAT32), 1);
    PackedMlp float32 = PackedMlp.of(f);
    assertEquals(4L * (784 * 256 + 256 * 128 + 128 * 10), float32.weightBytes());
    double ratio = (double) float32.weightBytes() / ternary.weightBytes();
    // 2 bits per weight plus one float scale per row (and row padding of the packed layout)
    assertTrue(ratio > 14 && ratio <= 16, "ratio " + ratio);
    assertEquals(4L * (256 + 128 + 10 + 256 + 128), ternary.otherParameterBytes());
  }
}
