package dev.aphelion.tritter.ternary;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.kernel.RowPool;
import dev.aphelion.tritter.kernel.Vectorization;
import dev.aphelion.tritter.quant.Int8Activations;
import org.junit.jupiter.api.Test;

/** Regressions for inputs that used to give silently wrong results. */
class EdgeInputsTest {

  /** absmean on weights near Float.MAX_VALUE gave scale Infinity, trits 0 and NaN on dequantize. */
  @Test
  void absmeanOfHugeFiniteWeightsHasAFiniteScale() {
    float[] w = {3e38f, -3e38f, 3e38f, 3e38f, 1f, -2f, 0f, 3f};
    TernaryQuantized q = TernaryQuantization.absmean(w, 2, 4, 4);
    assertEquals(3e38f, q.scales()[0]);
    assertArrayEquals(new byte[] {1, -1, 1, 1}, java.util.Arrays.copyOf(q.trits(), 4));
    for (float v : q.dequantize()) {
      assertTrue(Float.isFinite(v), "dequantized " + v);
    }
    // Ordinary groups keep the float-sum semantics exactly.
    assertEquals(1.5f, q.scales()[1]);
    q.toPacked();
  }

  static PackedTernary square(int n) {
    byte[] trits = new byte[n * n];
    for (int i = 0; i < trits.length; i++) {
      trits[i] = (byte) (i % 3 - 1);
    }
    float[] scales = new float[n];
    java.util.Arrays.fill(scales, 0.5f);
    return PackedTernary.fromTrits(trits, n, n, scales, n);
  }

  /** gemv(w, v, v) was wrong on the scalar kernel and right on the vector one, with no error. */
  @Test
  void outputMustNotAliasAnInput() {
    PackedTernary w = square(16);
    float[] v = new float[16];
    java.util.Arrays.fill(v, 1f);
    for (TernaryMatmul m : new TernaryMatmul[] {
        new TernaryMatmul(Vectorization.scalar(), RowPool.create(1)), new TernaryMatmul(Vectorization.vector(), RowPool.create(1))}) {
      ShapeException e = assertThrows(ShapeException.class, () -> m.gemv(w, v, v));
      assertTrue(e.getMessage().contains("alias"), e.getMessage());
      float[] y = new float[16];
      assertThrows(ShapeException.class, () -> m.gemv(w, v, y, y));
      m.gemv(w, v, y, v); // bias may be the activations: both are only read
    }
  }

  /** Float gemv accepted NaN and infinite activations while gemvInt8 rejected them. */
  @Test
  void floatActivationsMustBeFiniteLikeInt8Ones() {
    PackedTernary w = square(8);
    TernaryMatmul m = TernaryMatmul.get();
    for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
      float[] x = new float[16];
      x[13] = bad;
      ShapeException f = assertThrows(ShapeException.class, () -> m.gemm(w, x, 2, new float[16]));
      assertTrue(f.getMessage().contains("x[13]") && f.getMessage().contains("token 1"), f.getMessage());
      assertThrows(ShapeException.class, () -> Int8Activations.quantize(x, 2, 8));
    }
  }
}
