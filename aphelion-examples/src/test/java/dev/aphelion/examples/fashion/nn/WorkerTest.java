package dev.aphelion.examples.fashion.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.quant.Int8Activations;
import dev.aphelion.tritter.ternary.TernaryQuantization;
import dev.aphelion.tritter.ternary.TernaryQuantized;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class WorkerTest {
  private static final int[] SIZES = {7, 6, 5, 3};
  private static final int N = 5;

  private static float[] inputs(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[N * SIZES[0]];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextDouble();
    }
    return x;
  }

  private static final int[] LABELS = {0, 2, 1, 1, 0};
  private static final int[] ORDER = {0, 1, 2, 3, 4};

  /** Perturbs gains and biases away from their 1/0 initial values so every path is exercised. */
  private static Mlp model(Precision p) {
    Mlp mlp = new Mlp(new MlpLayout(SIZES, p), 7);
    SplittableRandom r = new SplittableRandom(9);
    for (MlpLayout.Slot s : mlp.slots()) {
      for (int o = 0; o < s.out(); o++) {
        mlp.parameters()[s.bias() + o] = (float) (r.nextDouble() - 0.5) * 0.2f;
      }
      if (s.hasGain()) {
        for (int i = 0; i < s.in(); i++) {
          mlp.parameters()[s.gain() + i] = 0.7f + (float) r.nextDouble() * 0.6f;
        }
      }
    }
    return mlp;
  }

  private static double loss(Mlp mlp, float[] x) {
    Worker w = new Worker(mlp.layout(), N);
    return w.run(mlp, mlp.snapshot(), x, LABELS, ORDER, 0, N, null, 0f).lossSum() / N;
  }

  @Test
  void float32GradientMatchesFiniteDifferences() {
    Mlp mlp = model(Precision.FLOAT32);
    float[] x = inputs(1);
    float[] grad = new float[mlp.layout().parameterCount()];
    new Worker(mlp.layout(), N).run(mlp, mlp.snapshot(), x, LABELS, ORDER, 0, N, grad, 1f / N);
    float[] p = mlp.parameters();
    int checked = 0;
    for (int i = 0; i < p.length; i++) {
      float saved = p[i];
      float h = 2e-3f;
      p[i] = saved + h;
      double up = loss(mlp, x);
      p[i] = saved - h;
      double down = loss(mlp, x);
      p[i] = saved;
      double numeric = (up - down) / (2 * h);
      // central differences in float: O(h²) truncation plus rounding of the loss
      assertEquals(numeric, grad[i], 2e-3 + 0.03 * Math.abs(numeric), "parameter " + i);
      checked++;
    }
    assertEquals(mlp.layout().parameterCount(), checked);
  }

  /** An independent, plain re-statement of the ternary forward pass (int arithmetic). */
  private static float[][] referenceTernary(Mlp mlp, float[] x, int row) {
    List<MlpLayout.Slot> slots = mlp.slots();
    float[] p = mlp.parameters();
    float[] h = java.util.Arrays.copyOfRange(x, row * SIZES[0], (row + 1) * SIZES[0]);
    float[] lastDequantized = null;
    for (int l = 0; l < slots.size(); l++) {
      MlpLayout.Slot s = slots.get(l);
      double ss = 0;
      for (float v : h) {
        ss += (double) v * v;
      }
      float ri = (float) (1 / Math.sqrt((float) (ss / s.in()) + 1e-5f));
      float[] n = new float[s.in()];
      for (int i = 0; i < s.in(); i++) {
        n[i] = h[i] * ri * (s.hasGain() ? p[s.gain() + i] : 1f);
      }
      Int8Activations qa = Int8Activations.quantize(n, 1, s.in());
      float xs = qa.scale(0);
      for (int i = 0; i < s.in(); i++) {
        n[i] = qa.value(0, i);
      }
      TernaryQuantized tq = TernaryQuantization.absmean(
          java.util.Arrays.copyOfRange(p, s.weight(), s.weight() + s.in() * s.out()),
          s.out(), s.in(), s.in());
      byte[] q = tq.trits();
      float[] ws = tq.scales();
      float[] z = new float[s.out()];
      for (int o = 0; o < s.out(); o++) {
        long acc = 0;
        for (int i = 0; i < s.in(); i++) {
          acc += (long) q[o * s.in() + i] * (long) n[i];
        }
        float v = acc * xs * ws[o] + p[s.bias() + o];
        z[o] = l == slots.size() - 1 ? v : Math.max(0f, v);
      }
      lastDequantized = new float[s.in()];
      for (int i = 0; i < s.in(); i++) {
        lastDequantized[i] = n[i] * xs;
      }
      h = z;
    }
    return new float[][] {h, lastDequantized};
  }

  @Test
  void ternaryForwardIsTheIntegerComputation() {
    Mlp mlp = model(Precision.TERNARY);
    float[] x = inputs(2);
    float[] logits = new float[N * 3];
    new Worker(mlp.layout(), 8).logits(mlp, mlp.snapshot(), x, 0, N, logits);
    for (int r = 0; r < N; r++) {
      float[] ref = referenceTernary(mlp, x, r)[0];
      for (int c = 0; c < 3; c++) {
        assertEquals(ref[c], logits[r * 3 + c], 1e-5f * (1 + Math.abs(ref[c])), "row " + r);
      }
    }
  }

  @Test
  void ternaryGradientIsStraightThroughToLatentWeights() {
    Mlp mlp = model(Precision.TERNARY);
    float[] x = inputs(3);
    float[] grad = new float[mlp.layout().parameterCount()];
    new Worker(mlp.layout(), N).run(mlp, mlp.snapshot(), x, LABELS, ORDER, 0, N, grad, 1f / N);
    MlpLayout.Slot last = mlp.slots().getLast();
    // dL/dW_latent[o,i] = Σ_b (softmax − onehot)[b,o] / N · x_dequantized[b,i]
    float[] expected = new float[last.out() * last.in()];
    for (int r = 0; r < N; r++) {
      float[][] ref = referenceTernary(mlp, x, r);
      float[] z = ref[0];
      double max = Math.max(z[0], Math.max(z[1], z[2]));
      double sum = 0;
      for (float v : z) {
        sum += Math.exp(v - max);
      }
      for (int o = 0; o < last.out(); o++) {
        double pr = Math.exp(z[o] - max) / sum - (o == LABELS[r] ? 1 : 0);
        for (int i = 0; i < last.in(); i++) {
          expected[o * last.in() + i] += (float) (pr / N * ref[1][i]);
        }
      }
    }
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], grad[last.weight() + i], 1e-5f, "weight " + i);
    }
    // every layer's latent weights receive gradient although the ternary values are discrete
    for (MlpLayout.Slot s : mlp.slots()) {
      double norm = 0;
      for (int i = 0; i < s.in() * s.out(); i++) {
        norm += Math.abs(grad[s.weight() + i]);
      }
      assertTrue(norm > 0, "layer " + s);
    }
  }

  @Test
  void shardLimitsAreChecked() {
    Mlp mlp = model(Precision.FLOAT32);
    Worker w = new Worker(mlp.layout(), 2);
    float[] x = inputs(4);
    assertThrows(ShapeException.class,
        () -> w.run(mlp, mlp.snapshot(), x, LABELS, ORDER, 0, 3, null, 0f));
    assertThrows(ShapeException.class,
        () -> w.run(mlp, mlp.snapshot(), x, LABELS, ORDER, 0, 2, new float[3], 1f));
  }
}
