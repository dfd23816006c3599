package dev.aphelion.examples.fashion.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The vectors of seed-semantics §3, which the tritter quantizers share. */
class QuantizerTest {
  @Test
  void roundsHalfAwayFromZero() {
    assertEquals(1f, Quantizer.roundHalfAway(0.5f));
    assertEquals(-1f, Quantizer.roundHalfAway(-0.5f));
    assertEquals(0f, Quantizer.roundHalfAway(0.49f));
    assertEquals(-2f, Quantizer.roundHalfAway(-1.5f));
    assertEquals(3f, Quantizer.roundHalfAway(2.5f));
  }

  @Test
  void absmeanPerRow() {
    float[] w = {0.5f, -0.3f, 0.1f, 0.8f, -0.2f, 0.6f, -0.7f, 0.4f};
    float[] q = new float[8];
    float[] s = new float[2];
    Quantizer.ternarizeRows(w, 0, 2, 4, q, s);
    assertArrayEquals(new float[] {1, -1, 0, 1, 0, 1, -1, 1}, q);
    assertEquals(0.425f, s[0], 1e-7f);
    assertEquals(0.475f, s[1], 1e-7f);
  }

  @Test
  void absmeanTieAndZeroRow() {
    float[] w = {-0.5f, 3.5f, 0f, 0f, 0f, 0f, 0f, 0f};
    float[] q = new float[8];
    float[] s = new float[2];
    Quantizer.ternarizeRows(w, 0, 2, 4, q, s);
    assertArrayEquals(new float[] {-1, 1, 0, 0, 0, 0, 0, 0}, q);
    assertEquals(1f, s[0]);
    assertEquals(1f, s[1]); // all-zero row: scale 1, values 0
  }

  @Test
  void int8ActivationsPerToken() {
    float[] x = {9f, 1f, -2f, 0.5f, 0f};
    float scale = Quantizer.quantizeActivationRow(x, 1, 4);
    assertEquals(0.015748031f, scale, 1e-9f);
    assertArrayEquals(new float[] {9f, 64f, -127f, 32f, 0f}, x);
    float[] zero = {0f, 0f};
    assertEquals(1f, Quantizer.quantizeActivationRow(zero, 0, 2));
    assertArrayEquals(new float[] {0f, 0f}, zero);
  }
}
