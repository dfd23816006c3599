package dev.aphelion.tritter.ternary;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ShapeException;
import org.junit.jupiter.api.Test;

class TernaryQuantizationTest {

  private static final float[] W = {0.5f, -0.3f, 0.1f, 0.8f, -0.2f, 0.6f, -0.7f, 0.4f};

  @Test
  void absmeanSeedVector() {
    TernaryQuantized q = TernaryQuantization.absmean(W, 2, 4, 4);
    assertArrayEquals(new byte[] {1, -1, 0, 1, 0, 1, -1, 1}, q.trits());
    assertArrayEquals(new float[] {0.425f, 0.475f}, q.scales(), 1e-7f);
  }

  @Test
  void absmaxSeedVector() {
    TernaryQuantized q = TernaryQuantization.absmax(W, 2, 4, 4);
    assertArrayEquals(new byte[] {1, 0, 0, 1, 0, 1, -1, 1}, q.trits());
    assertArrayEquals(new float[] {0.8f, 0.7f}, q.scales());
  }

  @Test
  void absmeanTieRoundsAwayFromZero() {
    TernaryQuantized q = TernaryQuantization.absmean(new float[] {-0.5f, 3.5f, 0f, 0f}, 1, 4, 4);
    assertArrayEquals(new float[] {1f}, q.scales());
    assertArrayEquals(new byte[] {-1, 1, 0, 0}, q.trits());
  }

  @Test
  void absmaxTieIsStrict() {
    // scale = max|w| = 1.5, so w/scale = ±1/3 and ±1; with scale 1 the seed vector's ties are ±0.5
    TernaryQuantized q = TernaryQuantization.absmax(new float[] {0.5f, -0.5f, 1.5f, -1.5f}, 1, 4, 4);
    assertArrayEquals(new byte[] {0, 0, 1, -1}, q.trits());
    TernaryQuantized ties = TernaryQuantization.absmax(new float[] {0.5f, -0.5f, 1f, -1f}, 1, 4, 4);
    assertArrayEquals(new byte[] {0, 0, 1, -1}, ties.trits());
  }

  @Test
  void bitnetGroupVector() {
    TernaryQuantized q = TernaryQuantization.absmean(new float[] {1, -1, .5f, -.5f, 2, -2, .1f, -.1f}, 2, 4, 4);
    assertArrayEquals(new byte[] {1, -1, 1, -1}, java.util.Arrays.copyOf(q.trits(), 4));
    assertEquals(0.75f, q.scales()[0]);
  }

  @Test
  void groupScalesAreKept() {
    TernaryQuantized q = TernaryQuantization.absmean(new float[] {1, 1, 1, 1, 4, 4, 4, 4}, 1, 8, 4);
    assertArrayEquals(new float[] {1f, 4f}, q.scales());
    assertArrayEquals(new float[] {1f, 4f}, q.toPacked().scales());
    assertArrayEquals(new float[] {1, 1, 1, 1, 4, 4, 4, 4}, q.dequantize());
  }

  @Test
  void raggedLastGroup() {
    TernaryQuantized q = TernaryQuantization.absmean(new float[] {1, -1, 2, 0, 0}, 1, 5, 2);
    assertEquals(3, q.groupsPerRow());
    assertArrayEquals(new float[] {1f, 1f, 1f}, q.scales()); // mean|[0]| = 0 -> 1.0
    assertArrayEquals(new byte[] {1, -1, 1, 0, 0}, q.trits());
    TernaryQuantized m = TernaryQuantization.absmax(new float[] {1, -1, 2, 0, 3}, 1, 5, 2);
    assertArrayEquals(new float[] {1f, 2f, 3f}, m.scales());
    assertArrayEquals(new byte[] {1, -1, 1, 0, 1}, m.trits());
  }

  @Test
  void zeroRowsGetScaleOne() {
    assertArrayEquals(new float[] {1f}, TernaryQuantization.absmean(new float[4], 1, 4, 4).scales());
    assertArrayEquals(new float[] {1f}, TernaryQuantization.absmax(new float[] {1e-11f, 0, 0, 0}, 1, 4, 4).scales());
  }

  @Test
  void nonFiniteWeightsAreNamed() {
    ShapeException e = assertThrows(ShapeException.class, () -> TernaryQuantization.absmean(new float[] {0, 1, Float.NaN, 2}, 2, 2, 2));
    assertTrue(e.getMessage().contains("index 2") && e.getMessage().contains("NaN"), e.getMessage());
    ShapeException inf = assertThrows(ShapeException.class, () -> TernaryQuantization.absmax(new float[] {Float.NEGATIVE_INFINITY}, 1, 1, 1));
    assertTrue(inf.getMessage().contains("index 0"), inf.getMessage());
    assertThrows(ShapeException.class, () -> TernaryQuantization.absmean(new float[3], 2, 2, 2));
    assertThrows(ShapeException.class, () -> TernaryQuantization.absmean(new float[4], 2, 2, 3));
  }
}
