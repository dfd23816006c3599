package dev.aphelion.tritter.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.tritter.kernel.Vectorization;
import java.lang.invoke.MethodHandles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link CompressionKernels#addScaledCollectAbove} (the heavy-hitter candidate pass) against
 * {@code addScaled} then {@code collectAbove} of the scalar reference, bit for bit, on odd sizes,
 * edge values, every threshold kind and overflowing outputs; in this JVM (the preferred width:
 * the 16-lane compress branch on AVX-512) and in a child JVM limited to 256-bit vectors (the
 * 8-lane table branch). {@link CompressionKernels#collectBucket} (the radix selection's bucket
 * copy) is checked the same way against a plain loop.
 */
class FusedCandidatePassTest {

  /** Runs the comparison on the widths of the JVM it is started in; prints the mismatches, then OK. */
  public static final class Child {
    public static void main(String[] args) {
      List<String> bad = mismatches();
      bad.forEach(System.out::println);
      System.out.println(bad.isEmpty() ? "OK " + vector().getClass().getSimpleName() : "FAILED " + bad.size());
    }
  }

  static CompressionKernels vector() {
    return Vectorization.vector().select(CompressionKernels.class, ScalarCompressionKernels::new, MethodHandles.lookup(),
        "PanamaCompressionKernels");
  }

  static List<String> mismatches() {
    CompressionKernels ref = new ScalarCompressionKernels();
    List<String> bad = new ArrayList<>();
    for (CompressionKernels k : new CompressionKernels[] {ref, vector()}) {
      for (int n : new int[] {0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 1021, 4099, 70_001}) {
        float[] acc0 = GradientCompressorTest.heavyTailed(n, 3L * n + 1);
        float[] g = GradientCompressorTest.heavyTailed(n, 3L * n + 2);
        if (n > 4) {
          acc0[0] = -0f;
          g[0] = 0f;
          acc0[1] = Float.MAX_VALUE;
          g[1] = Float.MAX_VALUE; // overflows to infinity in the add
          acc0[2] = Float.MIN_VALUE;
          g[3] = -Float.MIN_VALUE;
          acc0[4] = 1f;
          g[4] = -1f / 0.37f; // near-cancellation
        }
        for (float c : new float[] {0.37f, 1f, 0f}) {
          for (float t : new float[] {0f, 0.5f, 2f, Float.MAX_VALUE}) {
            for (int cap : new int[] {n, 0, 1, 9, 17, n / 2}) {
              String where = k.getClass().getSimpleName() + " n=" + n + " c=" + c + " t=" + t + " cap=" + cap;
              float[] expected = acc0.clone();
              ref.addScaled(expected, g, c, n);
              int[] ei = new int[cap];
              float[] ev = new float[cap];
              int ec = ref.collectAbove(expected, n, t, ei, ev);
              float[] acc = acc0.clone();
              int[] ai = new int[cap];
              float[] av = new float[cap];
              int count = k.addScaledCollectAbove(acc, g, c, n, t, ai, av);
              int kept = Math.min(ec, cap);
              if (count != ec) {
                bad.add(where + ": count " + count + ", expected " + ec);
              } else if (!Arrays.equals(bits(acc), bits(expected))) {
                bad.add(where + ": accumulator differs");
              } else if (!Arrays.equals(Arrays.copyOf(ai, kept), Arrays.copyOf(ei, kept))
                  || !Arrays.equals(bits(Arrays.copyOf(av, kept)), bits(Arrays.copyOf(ev, kept)))) {
                bad.add(where + ": collected entries differ");
              }
            }
          }
        }
      }
    }
    bad.addAll(bucketMismatches(ref));
    bad.addAll(bucketMismatches(vector()));
    return bad;
  }

  /** collectBucket against a plain loop, on odd sizes, edge values and empty and crowded buckets. */
  static List<String> bucketMismatches(CompressionKernels k) {
    List<String> bad = new ArrayList<>();
    for (int n : new int[] {0, 1, 7, 8, 9, 15, 16, 17, 33, 65, 1021, 70_001}) {
      float[] a = GradientCompressorTest.heavyTailed(n, 5L * n + 3);
      if (n > 6) {
        a[0] = -0f;
        a[1] = Float.MAX_VALUE;
        a[2] = -Float.MIN_VALUE;
        a[3] = Float.NEGATIVE_INFINITY;
        a[4] = -a[5];
      }
      for (int shift : new int[] {20, 23, 9, 0, 31}) {
        int[] keys = n == 0 ? new int[] {0}
            : new int[] {(Float.floatToRawIntBits(a[n / 2]) & 0x7FFFFFFF) >>> shift, (Float.floatToRawIntBits(a[n - 1]) & 0x7FFFFFFF) >>> shift,
                0, 0x7FFFFFFF >>> shift};
        for (int key : keys) {
          int[] expected = new int[n];
          int ec = 0;
          for (int i = 0; i < n; i++) {
            int b = Float.floatToRawIntBits(a[i]) & 0x7FFFFFFF;
            if (b >>> shift == key) {
              expected[ec++] = b;
            }
          }
          int[] out = new int[ec + CompressionKernels.BUCKET_SLACK];
          int count = k.collectBucket(a, n, shift, key, out);
          if (count != ec || !Arrays.equals(Arrays.copyOf(out, ec), Arrays.copyOf(expected, ec))) {
            bad.add(k.getClass().getSimpleName() + " collectBucket n=" + n + " shift=" + shift + " key=" + key + ": " + count
                + " members, expected " + ec);
          }
        }
      }
    }
    return bad;
  }

  static int[] bits(float[] a) {
    int[] b = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      b[i] = Float.floatToRawIntBits(a[i]);
    }
    return b;
  }

  @Test
  void fusedPassEqualsAddThenCollectAtThePreferredWidth() {
    assertEquals(List.of(), mismatches());
  }

  @Test
  void fusedPassEqualsAddThenCollectOn256BitVectors() throws Exception {
    String exe = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(exe, "-Xshare:auto", "--add-modules", "jdk.incubator.vector", "-XX:MaxVectorSize=32",
        "-cp", System.getProperty("java.class.path"), Child.class.getName()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM timed out");
    assertTrue(out.contains("OK PanamaCompressionKernels"), out);
  }
}
