package dev.aphelion.tritter.training;

/** The scalar reference implementation of {@link CompressionKernels}. */
public final class ScalarCompressionKernels implements CompressionKernels {

  /** Creates the kernels. */
  public ScalarCompressionKernels() {}

  @Override
  public double sumOfSquares(float[] a, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) {
      double v = a[i];
      s += v * v;
    }
    return s;
  }

  @Override
  public void addScaled(float[] acc, float[] g, float c, int n) {
    addScaled(acc, g, c, 0, n);
  }

  static void addScaled(float[] acc, float[] g, float c, int from, int to) {
    for (int i = from; i < to; i++) {
      acc[i] = acc[i] + c * g[i];
    }
  }

  @Override
  public int collectAbove(float[] a, int n, float threshold, int[] out) {
    return collectAbove(a, threshold, out, 0, 0, n);
  }

  static int collectAbove(float[] a, float threshold, int[] out, int count, int from, int to) {
    int cap = out.length;
    for (int i = from; i < to; i++) {
      if (Math.abs(a[i]) > threshold) {
        if (count < cap) {
          out[count] = i;
        }
        count++;
      }
    }
    return count;
  }
}
