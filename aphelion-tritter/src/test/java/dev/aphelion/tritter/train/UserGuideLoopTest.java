package dev.aphelion.tritter.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The training loop of docs/training.md, as printed there (between the markers). */
class UserGuideLoopTest {

  @Test
  void theGuidesLoopTrainsATernaryClassifier() {
    Examples train = SyntheticDigits.generate(1203, 1);
    Examples test = SyntheticDigits.generate(500, 2);
    // --- docs/training.md: loop ---
    Sequential model = Sequential.builder(64).rmsNorm().ternary(96).relu().rmsNorm().ternary(10).build(42);
    Optimizer adamw = OptimizerConfig.AdamW.defaults(1e-4f).create(model.parameterCount());
    LearningRateSchedule lr = LearningRateSchedule.warmupCosine(0.01, 20);
    int batch = 64;
    int epochs = 6;
    int width = train.width();
    long total = (long) epochs * ((train.count() + batch - 1) / batch); // the last batch is short
    long step = 0;
    for (int epoch = 0; epoch < epochs; epoch++) {
      for (int from = 0; from < train.count(); from += batch) {
        int rows = Math.min(batch, train.count() - from);
        float[] x = Arrays.copyOfRange(train.features(), from * width, (from + rows) * width);
        model.zeroGradients();
        float[] logits = model.forward(x, rows);
        float[] dLogits = new float[logits.length];
        SoftmaxCrossEntropy.compute(logits, rows, 10, train.labels(), from, dLogits, 1f / rows);
        model.backward(dLogits, rows);
        GradientClipping.clipByGlobalNorm(model.gradients(), 1.0);
        adamw.step(model.parameters(), model.gradients(), lr.at(step++, total));
      }
    }
    InferenceNetwork net = model.export(); // packed ternary TernaryLayers with int8 activations
    int[] predicted = net.predict(test.features(), test.count());
    // --- end ---
    long correct = 0;
    for (int i = 0; i < predicted.length; i++) {
      correct += predicted[i] == test.labels()[i] ? 1 : 0;
    }
    assertTrue(correct >= 0.93 * test.count(), "the guide's loop reaches " + correct + " / " + test.count());
  }
}
