package dev.aphelion.tritter.compress;

/** The scalar reference implementation of {@link CompressionKernels}. */
final class ScalarCompressionKernels implements CompressionKernels {

  /** Creates the kernels. */
  ScalarCompressionKernels() {}

  @Override
  public double sumOfSquares(float[] a, int n) {
    return laneSumOfSquares(a, n);
  }

  /** Lanes of the specified sum-of-squares order; see {@link CompressionKernels#sumOfSquares}. */
  static final int SUM_LANES = GradientWireFormat.CLIP_SUM_LANES;

  /** Elements per chunk of the specified sum-of-squares order. */
  static final int SUM_CHUNK = GradientWireFormat.CLIP_SUM_CHUNK;

  /** The sum of squares in the order {@link CompressionKernels#sumOfSquares} specifies. */
  static double laneSumOfSquares(float[] a, int n) {
    double total = 0;
    int bound = n & ~(SUM_LANES - 1);
    float[] lanes = new float[SUM_LANES];
    for (int start = 0; start < bound; start += SUM_CHUNK) {
      java.util.Arrays.fill(lanes, 0f);
      int end = Math.min(bound, start + SUM_CHUNK);
      for (int i = start; i < end; i++) {
        lanes[i & (SUM_LANES - 1)] = Math.fma(a[i], a[i], lanes[i & (SUM_LANES - 1)]);
      }
      for (float lane : lanes) {
        total += lane;
      }
    }
    return tailSumOfSquares(a, bound, n, total);
  }

  /** Adds the squares of {@code a[from..n)} to {@code total} in double, in index order. */
  static double tailSumOfSquares(float[] a, int from, int n, double total) {
    for (int i = from; i < n; i++) {
      double v = a[i];
      total += v * v;
    }
    return total;
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
  public int collectAbove(float[] a, int n, float threshold, int[] idx, float[] vals) {
    return collectAbove(a, threshold, idx, vals, 0, 0, n);
  }

  static int collectAbove(float[] a, float threshold, int[] idx, float[] vals, int count, int from, int to) {
    int cap = Math.min(idx.length, vals.length);
    for (int i = from; i < to; i++) {
      float v = a[i];
      if (Math.abs(v) > threshold) {
        if (count < cap) {
          idx[count] = i;
          vals[count] = v;
        }
        count++;
      }
    }
    return count;
  }

  @Override
  public int collectBucket(float[] a, int n, int shift, int bucket, int[] out) {
    return collectBucket(a, shift, bucket, out, 0, 0, n);
  }

  /** {@link #collectBucket} over {@code [from, to)}, appending at {@code count}; one slot of slack. */
  static int collectBucket(float[] a, int shift, int bucket, int[] out, int count, int from, int to) {
    for (int i = from; i < to; i++) {
      int bits = Float.floatToRawIntBits(a[i]) & 0x7FFFFFFF;
      out[count] = bits;
      // branch-free: members are a random tenth or so, which a branch would mispredict
      count += (((bits >>> shift) ^ bucket) - 1) >>> 31;
    }
    return count;
  }

  @Override
  public int addScaledCollectAbove(float[] acc, float[] g, float c, int n, float threshold, int[] idx, float[] vals) {
    return addScaledCollectAbove(acc, g, c, threshold, idx, vals, 0, 0, n);
  }

  static int addScaledCollectAbove(float[] acc, float[] g, float c, float threshold, int[] idx, float[] vals, int count, int from,
      int to) {
    int cap = Math.min(idx.length, vals.length);
    for (int i = from; i < to; i++) {
      float v = acc[i] + c * g[i];
      acc[i] = v;
      if (Math.abs(v) > threshold) {
        if (count < cap) {
          idx[count] = i;
          vals[count] = v;
        }
        count++;
      }
    }
    return count;
  }
}
