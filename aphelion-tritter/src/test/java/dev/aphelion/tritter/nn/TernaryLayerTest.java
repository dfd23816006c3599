package dev.aphelion.tritter.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.dense.DenseMatmul;
import dev.aphelion.tritter.kernel.RowPool;
import dev.aphelion.tritter.kernel.Vectorization;
import dev.aphelion.tritter.quant.Int8Activations;
import dev.aphelion.tritter.ternary.PackedTernary;
import dev.aphelion.tritter.ternary.TernaryMatmul;
import dev.aphelion.tritter.ternary.TernaryQuantization;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TernaryLayerTest {

  static float[] random(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return v;
  }

  @Test
  void quantizesOnceWithAbsmeanAndMatchesTheDequantizedReference() {
    int[][] shapes = {{1, 1}, {3, 17}, {17, 63}, {33, 65}, {5, 1021}};
    for (int[] s : shapes) {
      int out = s[0];
      int in = s[1];
      float[] w = random(out * in, out * 7L + in);
      float[] bias = random(out, 99);
      TernaryLayer layer = TernaryLayer.quantize(w, out, in, bias, TernaryLayer.Activations.FLOAT32);
      PackedTernary expected = TernaryQuantization.absmean(w, out, in, in).toPacked();
      assertEquals(expected, layer.packed());
      // Changing the caller's array afterwards does not change the layer: it was quantized once.
      java.util.Arrays.fill(w, 0f);
      float[] deq = TernaryLayer.dequantize(layer.packed());
      for (int rows : new int[] {1, 3}) {
        float[] x = random(rows * in, rows);
        float[] y = new float[rows * out];
        layer.forward(x, y, rows);
        for (int r = 0; r < rows; r++) {
          for (int o = 0; o < out; o++) {
            double ref = bias[o];
            double mag = Math.abs(bias[o]);
            for (int i = 0; i < in; i++) {
              ref += (double) deq[o * in + i] * x[r * in + i];
              mag += Math.abs(deq[o * in + i] * x[r * in + i]);
            }
            assertEquals(ref, y[r * out + o], 1e-5 * (mag + 1), "f32 " + out + "x" + in + " r=" + r + " o=" + o);
          }
        }
      }
    }
  }

  @Test
  void int8ActivationsMatchTheW158A8Reference() {
    int out = 19;
    int in = 67;
    float[] w = random(out * in, 3);
    TernaryLayer layer = TernaryLayer.quantize(w, out, in, 16, null, TernaryLayer.Activations.INT8);
    assertEquals(16, layer.packed().groupSize());
    float[] x = random(2 * in, 4);
    float[] y = new float[2 * out];
    layer.forward(x, y, 2);
    Int8Activations q = Int8Activations.quantize(x, 2, in);
    byte[] qv = q.values();
    float[] qs = q.scales();
    byte[] t = layer.packed().toTrits();
    for (int r = 0; r < 2; r++) {
      for (int o = 0; o < out; o++) {
        double ref = 0;
        for (int i = 0; i < in; i++) {
          ref += t[o * in + i] * layer.packed().scale(o, i / 16) * (double) qv[r * in + i];
        }
        ref *= qs[r];
        assertEquals(ref, y[r * out + o], 1e-4 * (Math.abs(ref) + 1), "int8 r=" + r + " o=" + o);
      }
    }
    // The int8 result is close to the f32-activation result (activation error <= max|x|/254).
    float[] yf = new float[2 * out];
    layer.withActivations(TernaryLayer.Activations.FLOAT32).forward(x, yf, 2);
    for (int i = 0; i < y.length; i++) {
      assertEquals(yf[i], y[i], 0.05 * (Math.abs(yf[i]) + 1));
    }
  }

  @Test
  void batchRowsEqualSingleRowsAndScalarEqualsVector() {
    int out = 40;
    int in = 70;
    PackedTernary p = TernaryQuantization.absmean(random(out * in, 8), out, in, in).toPacked();
    TernaryLayer layer = TernaryLayer.of(p, null, TernaryLayer.Activations.INT8);
    TernaryLayer scalar = layer.withMatmul(new TernaryMatmul(Vectorization.scalar(), RowPool.shared()));
    float[] x = random(5 * in, 9);
    float[] batch = new float[5 * out];
    float[] batchScalar = new float[5 * out];
    layer.forward(x, batch, 5);
    scalar.forward(x, batchScalar, 5);
    for (int r = 0; r < 5; r++) {
      float[] one = layer.forward(java.util.Arrays.copyOfRange(x, r * in, (r + 1) * in));
      for (int o = 0; o < out; o++) {
        assertEquals(batch[r * out + o], one[o], 1e-5 * (Math.abs(one[o]) + 1));
        assertEquals(batch[r * out + o], batchScalar[r * out + o], 1e-5 * (Math.abs(one[o]) + 1));
      }
    }
  }

  @Test
  void memoryIsAboutSixteenTimesSmallerThanF32() {
    int out = 256;
    int in = 1024;
    TernaryLayer t = TernaryLayer.quantize(random(out * in, 1), out, in, null, TernaryLayer.Activations.INT8);
    DenseLayer d = DenseLayer.of(random(out * in, 1), out, in, null);
    assertEquals(4L * out * in, d.memoryBytes());
    assertEquals(out * in / 4 + 4L * out, t.memoryBytes());
    assertTrue((double) d.memoryBytes() / t.memoryBytes() > 15);
    TernaryLayer withBias = TernaryLayer.of(t.packed(), new float[out], TernaryLayer.Activations.INT8);
    assertEquals(t.memoryBytes() + 4L * out, withBias.memoryBytes());
  }

  @Test
  void denseLayerMatchesReference() {
    float[] w = {1, 2, 3, 4, 5, 6};
    DenseLayer d = DenseLayer.of(w, 2, 3, new float[] {0.5f, -1});
    assertArrayEquals(new float[] {1 + 4 + 9 + 0.5f, 4 + 10 + 18 - 1}, d.forward(new float[] {1, 2, 3}));
    DenseLayer s = d.withMatmul(new DenseMatmul(Vectorization.scalar(), RowPool.shared()));
    assertArrayEquals(d.forward(new float[] {1, 2, 3}), s.forward(new float[] {1, 2, 3}));
  }

  @Test
  void badShapesAreRejected() {
    assertThrows(ShapeException.class, () -> TernaryLayer.quantize(new float[5], 2, 3, null, TernaryLayer.Activations.INT8));
    assertThrows(ShapeException.class, () -> TernaryLayer.quantize(new float[6], 2, 3, new float[3], TernaryLayer.Activations.INT8));
    assertThrows(ShapeException.class, () -> TernaryLayer.quantize(new float[] {1, Float.NaN}, 1, 2, null, TernaryLayer.Activations.INT8));
    TernaryLayer l = TernaryLayer.quantize(new float[6], 2, 3, null, TernaryLayer.Activations.FLOAT32);
    assertThrows(ShapeException.class, () -> l.forward(new float[2], new float[2], 1));
    assertThrows(ShapeException.class, () -> l.forward(new float[3], new float[1], 1));
    assertThrows(ShapeException.class, () -> l.forward(new float[3], new float[2], 0));
    assertThrows(ShapeException.class, () -> DenseLayer.of(new float[6], 3, 3, null));
  }

  /**
   * {@link TernaryLayer#forwardShared} against each layer's own {@code forward}, bit for bit: q/k/v
   * of a grouped-query block (k and v with a quarter of q's rows, none a multiple of the 32-row
   * block or the vector width), gate/up over several spans, biases on some layers, oversized
   * scratch arrays, several tokens, on the shared pool and on a pool of more threads than cores; a
   * float-activation layer among them makes every layer run on its own.
   */
  @Test
  void forwardSharedEqualsForwardOneByOneBitForBit() {
    int[][] shapes = {{72, 72, 18, 18}, {300, 600, 150, 150}, {257, 289, 65, 65}, {1021, 700, 700}, {17, 5, 1}};
    try (RowPool three = RowPool.create(3)) {
      TernaryMatmul onThree = new TernaryMatmul(Vectorization.get(), three);
      for (int[] s : shapes) {
        int in = s[0];
        for (int variant = 0; variant < 3; variant++) {
          TernaryLayer[] layers = new TernaryLayer[s.length - 1];
          for (int i = 0; i < layers.length; i++) {
            int out = s[i + 1];
            float[] bias = i % 2 == 1 ? random(out, 5 + i) : null;
            TernaryLayer.Activations a = variant == 2 && i == layers.length - 1 ? TernaryLayer.Activations.FLOAT32 : TernaryLayer.Activations.INT8;
            layers[i] = TernaryLayer.quantize(random(out * in, in * 31L + i), out, in, bias, a);
            if (variant == 1) {
              layers[i] = layers[i].withMatmul(onThree);
            }
          }
          for (int rows : new int[] {1, 2, 4, 5}) {
            float[] x = random(rows * in + 3, rows * 7L + in); // longer than needed, as the decoder's scratch
            float[][] expected = new float[layers.length][];
            float[][] actual = new float[layers.length][];
            for (int i = 0; i < layers.length; i++) {
              expected[i] = new float[rows * layers[i].outFeatures() + i];
              actual[i] = new float[rows * layers[i].outFeatures() + i];
              java.util.Arrays.fill(actual[i], Float.NaN);
              layers[i].forward(x, expected[i], rows);
            }
            TernaryLayer.forwardShared(layers, x, actual, rows);
            for (int i = 0; i < layers.length; i++) {
              for (int j = 0; j < rows * layers[i].outFeatures(); j++) {
                assertEquals(Float.floatToRawIntBits(expected[i][j]), Float.floatToRawIntBits(actual[i][j]),
                    java.util.Arrays.toString(s) + " variant " + variant + " rows " + rows + " layer " + i + " output " + j);
              }
            }
          }
        }
      }
    }
  }

  @Test
  void forwardSharedChecksItsArguments() {
    TernaryLayer a = TernaryLayer.quantize(random(5 * 8, 1), 5, 8, null, TernaryLayer.Activations.INT8);
    TernaryLayer b = TernaryLayer.quantize(random(3 * 8, 2), 3, 8, null, TernaryLayer.Activations.INT8);
    float[] x = random(8, 3);
    float[] y = new float[5];
    assertThrows(ShapeException.class, () -> TernaryLayer.forwardShared(new TernaryLayer[] {a, b}, x, new float[][] {y}, 1));
    assertThrows(ShapeException.class, () -> TernaryLayer.forwardShared(new TernaryLayer[] {a, a}, x, new float[][] {y, y}, 1));
    assertThrows(ShapeException.class, () -> TernaryLayer.forwardShared(new TernaryLayer[] {a, b}, x, new float[][] {y, new float[2]}, 1));
    float[] big = random(8, 4);
    assertThrows(ShapeException.class, () -> TernaryLayer.forwardShared(new TernaryLayer[] {a, b}, big, new float[][] {y, big}, 1));
  }
}
