package dev.aphelion.tritter.compress;

import dev.aphelion.tritter.random.SplitMix64;
import java.util.Arrays;

/**
 * Top-k by magnitude in one filtering pass: a threshold a little below the k-th magnitude, read
 * from a seeded sample, picks the candidates ({@link CompressionKernels#collectAbove}, in index
 * order); the exact k-th magnitude and the tie rule are then applied to the candidates only. The
 * result equals {@link CountSketch#topKReference} for every input: every entry above the k-th
 * magnitude and every tie is a candidate whenever at least k entries pass the threshold, and
 * otherwise the reference itself runs. The sample only decides the speed. Holds scratch; not
 * thread-safe (one per compressor).
 */
final class TopKSelector {
  private static final int SAMPLE = 4096;
  /** Below this size the sample costs more than the passes it saves. */
  private static final int MIN_FILTERED = 1 << 15;

  private final CompressionKernels kernels;
  private int[] idx = new int[1024];
  private float[] vals = new float[1024];
  private final float[] sample = new float[SAMPLE];

  TopKSelector(CompressionKernels kernels) {
    this.kernels = kernels;
  }

  /**
   * The indices (ascending) of the k entries of largest magnitude of {@code v[0..n)}; of the
   * entries equal to the k-th magnitude the first ones in index order.
   *
   * @param v finite values
   * @param n how many
   * @param k how many to keep (clamped to n)
   * @param seed picks the sample (any value gives the same result)
   * @return the indices
   */
  int[] topK(float[] v, int n, int k, long seed) {
    k = Math.min(k, n);
    // the sample's margin needs k well below n; near n the filter would keep almost everything
    if (n < MIN_FILTERED || k > n / 4) {
      return CountSketch.topKReference(v, n, k);
    }
    SplitMix64 rng = new SplitMix64(seed);
    for (int s = 0; s < SAMPLE; s++) {
      sample[s] = Math.abs(v[rng.nextInt(n)]);
    }
    Arrays.sort(sample);
    // 25% and 4 samples of margin: about 5 standard deviations of the sample count at k/n = 5%
    int m = (int) Math.ceil(1.25 * k * (double) SAMPLE / n) + 4;
    if (m >= SAMPLE) {
      return CountSketch.topKReference(v, n, k);
    }
    float low = sample[SAMPLE - 1 - m];
    int count = kernels.collectAbove(v, n, low, idx, vals);
    if (count > idx.length) {
      idx = new int[Math.max(count, idx.length * 2)];
      vals = new float[idx.length];
      count = kernels.collectAbove(v, n, low, idx, vals);
    }
    if (count < k) {
      // the threshold was above the k-th magnitude (a rare sample): the full passes
      return CountSketch.topKReference(v, n, k);
    }
    // every entry outside the candidates is at most low, so the k-th largest is a candidate
    int tau = Float.floatToRawIntBits(MagnitudeSelection.kthLargest(vals, count, k));
    int greater = 0;
    for (int j = 0; j < count; j++) {
      greater += (Float.floatToRawIntBits(vals[j]) & 0x7FFFFFFF) > tau ? 1 : 0;
    }
    int ties = k - greater;
    int[] out = new int[k];
    int o = 0;
    for (int j = 0; j < count; j++) {
      int a = Float.floatToRawIntBits(vals[j]) & 0x7FFFFFFF;
      if (a > tau || (a == tau && ties-- > 0)) {
        out[o++] = idx[j];
      }
    }
    return out;
  }

  /**
   * Zeroes all but the k entries of largest magnitude of {@code v[0..n)} (ties as {@link #topK});
   * equals {@link CountSketch#keepTopK}.
   */
  void keepTopK(float[] v, int n, int k, long seed) {
    if (k >= n) {
      return;
    }
    int[] keep = topK(v, n, k, seed);
    float[] kept = new float[keep.length];
    for (int j = 0; j < keep.length; j++) {
      kept[j] = v[keep[j]];
    }
    Arrays.fill(v, 0, n, 0f);
    for (int j = 0; j < keep.length; j++) {
      v[keep[j]] = kept[j];
    }
  }
}
