package dev.aphelion.tritter.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.quant.Int8Activations;
import dev.aphelion.tritter.ternary.TernaryQuantized;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Backward passes against central finite differences, and the straight-through estimator. */
class GradientCheckTest {

  private static float[] randomInput(int rows, int width, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] x = new float[rows * width];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (rnd.nextDouble() * 2 - 1);
    }
    return x;
  }

  /** Mean cross-entropy of the model on (x, y), in double for the differences. */
  private static double loss(Sequential m, float[] x, int[] y, int rows) {
    float[] logits = m.forward(x, rows);
    return SoftmaxCrossEntropy.compute(logits, rows, m.outFeatures(), y, 0, null, 0f).lossSum() / rows;
  }

  @Test
  void denseNormActivationGradientsMatchFiniteDifferences() {
    for (Activation act : List.of(Activation.SILU, Activation.TANH)) {
      Sequential m = Sequential.builder(5).dense(7).rmsNorm().activation(act).dense(6).activation(act).rmsNorm().dense(4)
          .build(3);
      // perturb the norm gains away from 1 so that their gradient is exercised
      SplittableRandom rnd = new SplittableRandom(9);
      float[] p = m.parameters();
      for (int i = 0; i < p.length; i++) {
        p[i] += (float) (0.3 * (rnd.nextDouble() - 0.5));
      }
      int rows = 6;
      float[] x = randomInput(rows, 5, 1);
      int[] y = {0, 1, 2, 3, 1, 2};
      m.zeroGradients();
      float[] logits = m.forward(x, rows);
      float[] dl = new float[rows * 4];
      SoftmaxCrossEntropy.compute(logits, rows, 4, y, 0, dl, 1f / rows);
      m.backward(dl, rows);
      float[] analytic = m.gradients().clone();
      double h = 1e-2;
      double worst = 0;
      for (int i = 0; i < p.length; i++) {
        float saved = p[i];
        p[i] = (float) (saved + h);
        double up = loss(m, x, y, rows);
        p[i] = (float) (saved - h);
        double down = loss(m, x, y, rows);
        p[i] = saved;
        double numeric = (up - down) / (2 * h);
        double err = Math.abs(numeric - analytic[i]) / Math.max(1e-2, Math.abs(numeric) + Math.abs(analytic[i]));
        worst = Math.max(worst, err);
        assertTrue(err < 2e-2, act + " parameter " + i + ": analytic " + analytic[i] + ", numeric " + numeric);
      }
      assertTrue(worst > 0, "the check compared nothing");
    }
  }

  @Test
  void reluGradientMatchesFiniteDifferencesAwayFromTheKink() {
    Sequential m = Sequential.builder(4).dense(8).relu().dense(3).build(5);
    int rows = 5;
    float[] x = randomInput(rows, 4, 2);
    int[] y = {0, 1, 2, 0, 1};
    m.zeroGradients();
    float[] dl = new float[rows * 3];
    SoftmaxCrossEntropy.compute(m.forward(x, rows), rows, 3, y, 0, dl, 1f / rows);
    m.backward(dl, rows);
    float[] analytic = m.gradients().clone();
    float[] p = m.parameters();
    double h = 1e-3;
    for (int i = 0; i < p.length; i++) {
      float saved = p[i];
      p[i] = (float) (saved + h);
      double up = loss(m, x, y, rows);
      p[i] = (float) (saved - h);
      double down = loss(m, x, y, rows);
      p[i] = saved;
      double numeric = (up - down) / (2 * h);
      assertEquals(numeric, analytic[i], 2e-3 + 2e-2 * Math.abs(numeric), "parameter " + i);
    }
  }

  @Test
  void ternaryBackwardIsTheStraightThroughEstimator() {
    int in = 12;
    int out = 5;
    int rows = 4;
    TernaryLinear t = new TernaryLinear(in, out, true);
    float[] p = new float[t.parameterCount()];
    t.initialize(p, 0, new SplittableRandom(7));
    for (int o = 0; o < out; o++) {
      p[in * out + o] = 0.1f * o;
    }
    float[] x = randomInput(rows, in, 3);
    float[] dy = randomInput(rows, out, 4);
    float[] yT = t.forward(p, 0, x, rows);
    float[] gT = new float[p.length];
    float[] dxT = t.backward(p, gT, 0, dy, rows, true);

    // the same products in float32 with the dequantized weights and the dequantized int8 inputs
    TernaryQuantized q = t.quantized(p, 0);
    float[] wq = q.dequantize();
    float[] xq = Int8Activations.quantize(x, rows, in).dequantize();
    DenseLinear d = new DenseLinear(in, out, true);
    float[] pd = p.clone();
    System.arraycopy(wq, 0, pd, 0, wq.length);
    float[] yD = d.forward(pd, 0, xq, rows);
    float[] gD = new float[p.length];
    float[] dxD = d.backward(pd, gD, 0, dy, rows, true);
    assertArrayEquals(gD, gT, 1e-6f, "dW = dyᵀ·(q_x s_x), db = Σ dy");
    assertArrayEquals(dxD, dxT, 1e-6f, "dx = dy·(q s_w)");
    for (int i = 0; i < yT.length; i++) {
      assertEquals(yD[i], yT[i], 1e-4f * (1 + Math.abs(yD[i])), "forward is the ternary product of the quantized input");
    }
    // the ternary weights really are ternary and not all zero
    int nonZero = 0;
    for (byte b : q.trits()) {
      assertTrue(b >= -1 && b <= 1);
      nonZero += b != 0 ? 1 : 0;
    }
    assertTrue(nonZero > in * out / 3, "absmean keeps most weights: " + nonZero);
  }

  @Test
  void crossEntropyGradientIsSoftmaxMinusOneHot() {
    float[] logits = {1f, 2f, 3f};
    float[] d = new float[3];
    SoftmaxCrossEntropy.Loss l = SoftmaxCrossEntropy.compute(logits, 1, 3, new int[] {2}, 0, d, 1f);
    double z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    assertEquals(Math.log(z) - 3, l.lossSum(), 1e-9);
    assertEquals(Math.exp(1) / z, d[0], 1e-6);
    assertEquals(Math.exp(3) / z - 1, d[2], 1e-6);
    assertEquals(1, l.correct());
    assertThrows(ShapeException.class, () -> SoftmaxCrossEntropy.compute(logits, 1, 3, new int[] {3}, 0, d, 1f));
  }

  @Test
  void badShapesAreRejected() {
    assertThrows(ShapeException.class, () -> Sequential.of(List.of(new DenseLinear(4, 3, true), new DenseLinear(4, 2, true)), 1));
    Sequential m = Sequential.builder(4).dense(3).build(1);
    assertThrows(ShapeException.class, () -> m.forward(new float[7], 2));
    assertThrows(ShapeException.class, () -> m.load(new float[3]));
    m.forward(new float[8], 2);
    assertThrows(ShapeException.class, () -> m.backward(new float[3], 1));
    assertThrows(ShapeException.class, () -> new Examples(new float[6], new int[] {0, 5}, 3, 2));
    assertThrows(ShapeException.class, () -> new Examples(new float[] {0, Float.NaN}, new int[] {0}, 2, 2));
  }
}
