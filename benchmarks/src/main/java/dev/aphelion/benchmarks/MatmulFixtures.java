package dev.aphelion.benchmarks;

import dev.aphelion.tritter.ternary.PackedTernary;
import java.util.SplittableRandom;

/** Deterministic inputs shared by the matmul benchmarks. */
public final class MatmulFixtures {
  private MatmulFixtures() {}

  /** Random trits, a third each of -1, 0 and +1, with random row scales. */
  public static PackedTernary ternary(int rows, int cols, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    byte[] t = new byte[rows * cols];
    for (int i = 0; i < t.length; i++) {
      t[i] = (byte) (rnd.nextInt(3) - 1);
    }
    float[] s = new float[rows];
    for (int i = 0; i < rows; i++) {
      s[i] = 0.5f + (float) rnd.nextDouble();
    }
    return PackedTernary.fromTrits(t, rows, cols, s, cols);
  }

  /** Dense weights: the ternary matrix's values (trit times scale), so both compute the same product. */
  static float[] dense(PackedTernary w) {
    int rows = w.rows();
    int cols = w.cols();
    float[] d = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      float s = w.scale(r, 0);
      for (int c = 0; c < cols; c++) {
        d[r * cols + c] = w.trit(r, c) * s;
      }
    }
    return d;
  }

  /** {@code n} uniform values in [-1, 1). */
  public static float[] activations(int n, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) (rnd.nextDouble() * 2 - 1);
    }
    return x;
  }
}
