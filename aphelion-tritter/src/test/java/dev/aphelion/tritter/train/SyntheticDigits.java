package dev.aphelion.tritter.train;

import java.util.SplittableRandom;

/**
 * A digits-like data set made in the test: 10 classes of 8x8 images (64 features in [0, 1]), each
 * class a fixed random stroke pattern, every example that pattern with 22% of its pixels flipped
 * and Gaussian noise added (scikit-learn's digits has the same shape).
 */
public final class SyntheticDigits {
  private SyntheticDigits() {}

  public static Examples generate(int n, long seed) {
    SplittableRandom protoRnd = new SplittableRandom(42);
    float[][] proto = new float[10][64];
    for (int c = 0; c < 10; c++) {
      for (int i = 0; i < 64; i++) {
        proto[c][i] = protoRnd.nextDouble() < 0.35 ? 1f : 0f;
      }
    }
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] x = new float[n * 64];
    int[] y = new int[n];
    for (int r = 0; r < n; r++) {
      int c = rnd.nextInt(10);
      y[r] = c;
      for (int i = 0; i < 64; i++) {
        float v = proto[c][i];
        if (rnd.nextDouble() < 0.22) {
          v = 1f - v;
        }
        v += (float) (0.3 * Buffers.gaussian(rnd));
        x[r * 64 + i] = Math.max(0f, Math.min(1f, v));
      }
    }
    return new Examples(x, y, 64, 10);
  }
}
