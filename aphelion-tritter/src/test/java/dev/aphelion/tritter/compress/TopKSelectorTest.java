package dev.aphelion.tritter.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.aphelion.tritter.kernel.Vectorization;
import java.lang.invoke.MethodHandles;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The one-pass top-k against its reference (full radix selection): exact, ties included, both kernel paths. */
class TopKSelectorTest {

  private static CompressionKernels[] kernels() {
    CompressionKernels v = Vectorization.vector().select(CompressionKernels.class, ScalarCompressionKernels::new,
        MethodHandles.lookup(), "PanamaCompressionKernels");
    assertEquals("PanamaCompressionKernels", v.getClass().getSimpleName());
    return new CompressionKernels[] {new ScalarCompressionKernels(), v};
  }

  /** Heavy-tailed values; with {@code levels > 0} rounded to that many magnitudes (ties, zeros, -0.0). */
  private static float[] values(int n, long seed, int levels) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      float x = (float) (r.nextGaussian() * Math.exp(r.nextDouble() * 4 - 2));
      v[i] = levels > 0 ? (float) Math.rint(x * levels / 8.0) : x;
      if (levels > 0 && v[i] == 0f && r.nextBoolean()) {
        v[i] = -0f;
      }
    }
    return v;
  }

  private static void check(CompressionKernels k, float[] v, int n, int kk, long seed, String what) {
    TopKSelector s = new TopKSelector(k);
    int[] expect = CountSketch.topKReference(v, n, kk);
    assertArrayEquals(expect, s.topK(v, n, kk, seed), what);
    float[] a = v.clone(), b = v.clone();
    CountSketch.keepTopK(a, n, kk);
    s.keepTopK(b, n, kk, seed);
    for (int i = 0; i < v.length; i++) {
      assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]), what + " keepTopK at " + i);
    }
  }

  @Test
  void equalsTheReferenceOnOddSizesRanksAndTies() {
    for (CompressionKernels k : kernels()) {
      for (int n : new int[] {100, 32_767, 32_768, 32_771, 100_003, 400_009}) {
        for (int levels : new int[] {0, 3, 40}) {
          float[] v = values(n + 5, n * 31L + levels, levels); // 5 values past n must be ignored
          for (int kk : new int[] {1, 7, n / 100, n / 20, n / 4, n / 4 + 1, n - 1, n, n + 3}) {
            for (long seed : new long[] {0, 17}) {
              check(k, v, n, Math.max(1, kk), seed, k.getClass().getSimpleName() + " n " + n + " levels " + levels
                  + " k " + kk + " seed " + seed);
            }
          }
        }
      }
    }
  }

  @Test
  void fallsBackWhenTheSampleThresholdIsTooHigh() {
    // all but a few entries tie: the sample sees only the common magnitude, the filter keeps the
    // few above it, fewer than k; the ties must then come in index order
    int n = 200_001;
    float[] v = new float[n];
    java.util.Arrays.fill(v, 0.5f);
    for (int i = 0; i < n; i += 9_999) {
      v[i] = -3f - i;
    }
    for (CompressionKernels k : kernels()) {
      check(k, v, n, 1_000, 3, "mostly ties");
      check(k, v, n, 10, 3, "only the large ones");
      check(k, new float[n], n, 1_000, 3, "all zero");
    }
  }
}
