package dev.aphelion.tritter.ternary;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.error.ShapeException;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PackedTernaryTest {

  static byte[] randomTrits(Random rnd, int n) {
    byte[] t = new byte[n];
    for (int i = 0; i < n; i++) {
      t[i] = (byte) (rnd.nextInt(3) - 1);
    }
    return t;
  }

  static float[] ones(int n) {
    float[] s = new float[n];
    java.util.Arrays.fill(s, 1f);
    return s;
  }

  @Test
  void tritterByteVectors() {
    PackedTernary p = PackedTernary.fromTrits(new byte[] {1, 0, -1, 1, -1, 0, 1, -1}, 2, 4, ones(2), 4);
    assertArrayEquals(new byte[] {0x61, (byte) 0x92}, p.toTritterBytes());
    PackedTernary q = PackedTernary.fromTrits(new byte[] {1, -1, 0, 0, 1}, 1, 5, ones(1), 5);
    assertArrayEquals(new byte[] {0x09, 0x01}, q.toTritterBytes());

    PackedTernary back = PackedTernary.fromTritterBytes(new byte[] {0x61, (byte) 0x92}, 2, 4, ones(2), 4);
    assertArrayEquals(new byte[] {1, 0, -1, 1, -1, 0, 1, -1}, back.toTrits());
    assertEquals(p, back);
    assertArrayEquals(new byte[] {1, -1, 0, 0, 1}, PackedTernary.fromTritterBytes(new byte[] {0x09, 0x01}, 1, 5, ones(1), 5).toTrits());
  }

  @Test
  void code11AndPaddingAreRejected() {
    SerializationException e = assertThrows(SerializationException.class,
        () -> PackedTernary.fromTritterBytes(new byte[] {0x61, (byte) 0x93}, 2, 4, ones(2), 4));
    assertTrue(e.getMessage().contains("row 1, col 0") && e.getMessage().contains("11"), e.getMessage());
    SerializationException pad = assertThrows(SerializationException.class,
        () -> PackedTernary.fromTritterBytes(new byte[] {0x09, 0x05}, 1, 5, ones(1), 5));
    assertTrue(pad.getMessage().contains("padding"), pad.getMessage());
  }

  @Test
  void roundTripsOddShapesAndGroups() {
    Random rnd = new Random(7);
    int[][] shapes = {{1, 1}, {3, 17}, {33, 63}, {31, 64}, {65, 65}, {5, 1021}, {2, 4099}, {300, 700}};
    for (int[] s : shapes) {
      int rows = s[0];
      int cols = s[1];
      for (int group : new int[] {cols, 1, 3, 4, 7, 32, Math.max(1, cols / 2)}) {
        if (group > cols) {
          continue;
        }
        int groups = (cols + group - 1) / group;
        float[] scales = new float[rows * groups];
        for (int i = 0; i < scales.length; i++) {
          scales[i] = rnd.nextFloat() + 0.1f;
        }
        byte[] trits = randomTrits(rnd, rows * cols);
        PackedTernary p = PackedTernary.fromTrits(trits, rows, cols, scales, group);
        String what = rows + "x" + cols + " group " + group;
        assertArrayEquals(trits, p.toTrits(), what);
        assertArrayEquals(scales, p.scales(), what);
        assertEquals(groups, p.groupsPerRow());
        for (int k = 0; k < 20; k++) {
          int r = rnd.nextInt(rows);
          int c = rnd.nextInt(cols);
          assertEquals(trits[r * cols + c], p.trit(r, c), what);
          assertEquals(scales[r * groups + c / group], p.scale(r, c / group), what);
        }
        PackedTernary again = PackedTernary.fromTritterBytes(p.toTritterBytes(), rows, cols, scales, group);
        assertEquals(p, again, what);
        assertArrayEquals(trits, again.toTrits(), what);
      }
    }
  }

  @Test
  void groupScalesAreKeptNotAveraged() {
    // seed-semantics §3: averaging [1,1,1,1,4,4,4,4] (group 4) would give 2.5
    PackedTernary p = PackedTernary.fromTrits(new byte[] {1, 1, 1, 1, 1, 1, 1, 1}, 1, 8, new float[] {1f, 4f}, 4);
    assertArrayEquals(new float[] {1f, 4f}, p.scales());
  }

  @Test
  void memoryIsAtLeast15xSmallerThanF32() {
    int n = 4096;
    PackedTernary p = PackedTernary.fromTrits(new byte[n * n], n, n, ones(n), n);
    long f32 = 4L * n * n;
    assertEquals(n * (long) n / 4 + 4L * n, p.memoryBytes());
    double ratio = (double) f32 / p.memoryBytes();
    assertTrue(ratio >= 15.0, "ratio " + ratio);
    assertEquals(15.94, ratio, 0.01);
  }

  @Test
  void badInputIsNamed() {
    ShapeException t = assertThrows(ShapeException.class, () -> PackedTernary.fromTrits(new byte[] {0, 2}, 1, 2, ones(1), 2));
    assertTrue(t.getMessage().contains("index 1") && t.getMessage().contains("2"), t.getMessage());
    ShapeException len = assertThrows(ShapeException.class, () -> PackedTernary.fromTrits(new byte[3], 2, 2, ones(2), 2));
    assertTrue(len.getMessage().contains("length 3"), len.getMessage());
    ShapeException sc = assertThrows(ShapeException.class, () -> PackedTernary.fromTrits(new byte[4], 2, 2, ones(1), 2));
    assertTrue(sc.getMessage().contains("scales has length 1"), sc.getMessage());
    ShapeException nan = assertThrows(ShapeException.class, () -> PackedTernary.fromTrits(new byte[4], 2, 2, new float[] {1f, Float.NaN}, 2));
    assertTrue(nan.getMessage().contains("index 1"), nan.getMessage());
    assertThrows(ShapeException.class, () -> PackedTernary.fromTrits(new byte[4], 2, 2, ones(2), 3));
    assertThrows(ShapeException.class, () -> PackedTernary.fromTritterBytes(new byte[3], 2, 5, ones(2), 5));
  }
}
