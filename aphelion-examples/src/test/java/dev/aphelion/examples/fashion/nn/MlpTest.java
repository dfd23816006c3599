package dev.aphelion.examples.fashion.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.aphelion.tritter.ternary.TernaryQuantization;
import dev.aphelion.tritter.ternary.TernaryQuantized;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MlpTest {
  @Test
  void snapshotTernarizesExactlyAsTheLibrary() {
    Mlp mlp = new Mlp(new MlpLayout(new int[] {65, 33, 17, 3}, Precision.TERNARY), 5);
    float[] p = mlp.parameters();
    SplittableRandom r = new SplittableRandom(6);
    // ties: values at exactly ±0.5·scale, and an all-zero row
    MlpLayout.Slot s0 = mlp.slots().getFirst();
    for (int c = 0; c < s0.in(); c++) {
      p[s0.weight() + c] = c % 3 == 0 ? 0.5f : c % 3 == 1 ? -0.5f : 1f;
      p[s0.weight() + s0.in() + c] = 0f;
    }
    for (int i = 2 * s0.in(); i < s0.in() * s0.out(); i++) {
      p[s0.weight() + i] = (float) r.nextGaussian() * 0.1f;
    }
    Mlp.Snapshot snap = mlp.snapshot();
    for (int l = 0; l < mlp.slots().size(); l++) {
      MlpLayout.Slot s = mlp.slots().get(l);
      TernaryQuantized lib = TernaryQuantization.absmean(
          Arrays.copyOfRange(p, s.weight(), s.weight() + s.in() * s.out()), s.out(), s.in(), s.in());
      assertEquals(lib, snap.quantized(l), "layer " + l);
      float[] w = snap.weights(l);
      byte[] t = lib.trits();
      for (int i = 0; i < t.length; i++) {
        assertEquals(t[i], (int) w[i]);
      }
      assertArrayEquals(lib.scales(), snap.scales(l));
    }
    assertEquals(1f, snap.scales(0)[1]);
  }

  @Test
  void float32SnapshotIsTheWeights() {
    Mlp mlp = new Mlp(new MlpLayout(new int[] {5, 4, 3}, Precision.FLOAT32), 1);
    Mlp.Snapshot snap = mlp.snapshot();
    MlpLayout.Slot s = mlp.slots().getFirst();
    assertArrayEquals(Arrays.copyOfRange(mlp.parameters(), s.weight(), s.weight() + 20), snap.weights(0));
    assertThrows(IllegalStateException.class, () -> snap.quantized(0));
  }

  @Test
  void layoutOffsets() {
    MlpLayout l = new MlpLayout(new int[] {784, 256, 128, 10}, Precision.TERNARY);
    assertEquals(784 * 256 + 256 + 256 * 128 + 128 + 256 + 128 * 10 + 10 + 128, l.parameterCount());
    assertEquals(784 * 256 + 256 * 128 + 128 * 10, l.weightCount());
    assertEquals(-1, l.slots().getFirst().gain());
  }
}
