package dev.aphelion.examples.fashion;

import java.util.SplittableRandom;

/**
 * A small stand-in for Fashion-MNIST that needs no files: each class is a random prototype
 * image; examples are a prototype at a random brightness plus Gaussian noise, clipped to [0, 1].
 */
public final class SyntheticImages {
  private SyntheticImages() {}

  public static LabeledImages make(int count, int side, int classes, double noise, long seed) {
    SplittableRandom protoRnd = new SplittableRandom(12345);
    int d = side * side;
    float[][] proto = new float[classes][d];
    for (int c = 0; c < classes; c++) {
      for (int i = 0; i < d; i++) {
        proto[c][i] = protoRnd.nextDouble() < 0.4 ? (float) protoRnd.nextDouble() : 0f;
      }
    }
    SplittableRandom r = new SplittableRandom(seed);
    float[] px = new float[count * d];
    int[] y = new int[count];
    for (int n = 0; n < count; n++) {
      int c = r.nextInt(classes);
      y[n] = c;
      double brightness = 0.6 + 0.4 * r.nextDouble();
      for (int i = 0; i < d; i++) {
        double g = Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
        px[n * d + i] = (float) Math.min(1, Math.max(0, proto[c][i] * brightness + noise * g));
      }
    }
    return new LabeledImages(px, y, count, side, side, classes);
  }
}
