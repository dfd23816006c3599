package dev.aphelion.tritter.compress;

import java.util.Arrays;
import java.util.Objects;

/**
 * Exact selection of the k-th largest magnitude, the threshold step of top-k gradient
 * sparsification, in O(n): a radix selection on the IEEE bits of {@code |v|}, which order like the
 * magnitudes. One histogram pass over bits 30..20 of every value (four interleaved histograms,
 * so equal buckets do not serialize on one counter), then the values of the bucket that holds the
 * k-th are copied out and two small passes over bits 19..9 and 8..0 finish there.
 */
public final class MagnitudeSelection {
  private MagnitudeSelection() {}

  /**
   * The k-th largest (1-based) of {@code |values[i]|}, {@code i < n}.
   *
   * @param values finite values (signs are ignored; NaN is not allowed)
   * @param n how many, at most {@code values.length}
   * @param k the rank, in {@code [1, n]}
   * @return the magnitude of rank k ({@code +0.0} for a zero)
   * @throws IllegalArgumentException if k is outside {@code [1, n]}
   * @throws IndexOutOfBoundsException if n is negative or beyond the array
   */
  public static float kthLargest(float[] values, int n, int k) {
    return Float.intBitsToFloat((int) kthLargestAndTies(values, n, k));
  }

  /**
   * As {@link #kthLargest}, with the count of ties the top k take: the low 32 bits are the raw
   * bits of the k-th largest magnitude {@code tau}, the high 32 bits {@code k - #{i : |v[i]| >
   * tau}} (at least 1), so a caller need not count the larger ones again.
   */
  static long kthLargestAndTies(float[] values, int n, int k) {
    return kthLargestAndTies(null, values, n, k);
  }

  /** As {@link #kthLargestAndTies(float[], int, int)}, the bucket copied out by {@code kernels} (scalar when null). */
  static long kthLargestAndTies(CompressionKernels kernels, float[] values, int n, int k) {
    Objects.requireNonNull(values, "values");
    Objects.checkFromIndexSize(0, n, values.length);
    if (k < 1 || k > n) {
      throw new IllegalArgumentException("k = " + k + " outside [1, n = " + n + "]");
    }
    float[] a = values;
    // pass 1: bits 30..20 of every magnitude, into four interleaved histograms so that runs of
    // equal buckets do not serialize on one counter
    int[] hist = new int[4 * 2048];
    int i = 0;
    for (; i + 3 < n; i += 4) {
      hist[((Float.floatToRawIntBits(a[i]) & 0x7FFFFFFF) >>> 20) << 2]++;
      hist[(((Float.floatToRawIntBits(a[i + 1]) & 0x7FFFFFFF) >>> 20) << 2) + 1]++;
      hist[(((Float.floatToRawIntBits(a[i + 2]) & 0x7FFFFFFF) >>> 20) << 2) + 2]++;
      hist[(((Float.floatToRawIntBits(a[i + 3]) & 0x7FFFFFFF) >>> 20) << 2) + 3]++;
    }
    for (; i < n; i++) {
      hist[((Float.floatToRawIntBits(a[i]) & 0x7FFFFFFF) >>> 20) << 2]++;
    }
    int remaining = k;
    int chosen = 0;
    for (int h = 2047; h >= 0; h--) {
      int c = hist[4 * h] + hist[4 * h + 1] + hist[4 * h + 2] + hist[4 * h + 3];
      if (c >= remaining) {
        chosen = h;
        break;
      }
      remaining -= c;
    }
    // the k-th lies in bucket `chosen`: copy that bucket's bits out and finish there
    int[] bucket = new int[hist[4 * chosen] + hist[4 * chosen + 1] + hist[4 * chosen + 2] + hist[4 * chosen + 3]
        + CompressionKernels.BUCKET_SLACK];
    int m = kernels != null ? kernels.collectBucket(a, n, 20, chosen, bucket)
        : ScalarCompressionKernels.collectBucket(a, 20, chosen, bucket, 0, 0, n);
    int prefix = chosen << 20;
    int prefixMask = 0x7FF << 20;
    int[] small = new int[2048];
    int[][] passes = {{9, 11}, {0, 9}};
    for (int[] pass : passes) {
      int shift = pass[0], buckets = 1 << pass[1], mask = buckets - 1;
      Arrays.fill(small, 0, buckets, 0);
      for (int t = 0; t < m; t++) {
        int bits = bucket[t];
        if ((bits & prefixMask) == prefix) {
          small[(bits >>> shift) & mask]++;
        }
      }
      int above = 0, pick = 0;
      for (int h = mask; h >= 0; h--) {
        if (above + small[h] >= remaining) {
          pick = h;
          break;
        }
        above += small[h];
      }
      remaining -= above;
      prefix |= pick << shift;
      prefixMask |= mask << shift;
    }
    // every level subtracted the entries above its pick: what remains are the ties to take
    return ((long) remaining << 32) | (prefix & 0xFFFFFFFFL);
  }}
