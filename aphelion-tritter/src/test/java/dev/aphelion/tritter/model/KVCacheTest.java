package dev.aphelion.tritter.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.kernel.Vectorization;
import dev.aphelion.tritter.nn.FloatKernels;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class KVCacheTest {

  static float[] random(int n, SplittableRandom r, double scale) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextGaussian() * scale);
    }
    return v;
  }

  static KVCache cache(int seqs, int cap, KVCache.EvictionPolicy p, KVCache.Storage s) {
    return KVCache.builder().layers(2).sequences(seqs).kvHeads(3).headDim(5).capacity(cap).policy(p).storage(s).build();
  }

  @Test
  void putStoresOnlyThatTokenAndReadsBack() {
    KVCache c = cache(2, 4, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
    SplittableRandom r = new SplittableRandom(1);
    float[][] k = new float[3][];
    float[][] v = new float[3][];
    for (int t = 0; t < 3; t++) {
      k[t] = random(15, r, 1);
      v[t] = random(15, r, 1);
      c.put(1, 1, t, k[t], 0, v[t], 0);
      c.advance(1, 1);
    }
    assertEquals(3, c.position(1));
    assertEquals(0, c.position(0));
    float[] out = new float[5];
    for (int t = 0; t < 3; t++) {
      for (int h = 0; h < 3; h++) {
        c.read(1, 1, t, h, false, out);
        assertArrayEquals(java.util.Arrays.copyOfRange(k[t], h * 5, h * 5 + 5), out);
        c.read(1, 1, t, h, true, out);
        assertArrayEquals(java.util.Arrays.copyOfRange(v[t], h * 5, h * 5 + 5), out);
      }
    }
    assertThrows(IllegalArgumentException.class, () -> c.read(1, 1, 3, 0, false, out));
    assertThrows(IllegalArgumentException.class, () -> c.read(1, 0, 0, 0, false, out));
    c.reset(1);
    assertEquals(0, c.position(1));
    assertEquals(2L * 2 * 2 * 3 * 4 * 5 * 4, c.memoryBytes());
  }

  @Test
  void errorPolicyRejectsTheTokenPastCapacity() {
    KVCache c = cache(1, 2, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
    float[] kv = new float[15];
    c.put(0, 0, 0, kv, 0, kv, 0);
    c.put(0, 0, 1, kv, 0, kv, 0);
    c.advance(0, 2);
    ShapeException e = assertThrows(ShapeException.class, () -> c.put(0, 0, 2, kv, 0, kv, 0));
    assertTrue(e.getMessage().contains("KV cache full"), e.getMessage());
    assertThrows(ShapeException.class, () -> c.advance(0, 1));
    assertThrows(ShapeException.class, () -> c.ensureRoom(0, 1));
    assertThrows(IllegalArgumentException.class, () -> c.put(0, 0, 1, kv, 0, kv, 0));
    c.truncate(0, 1);
    assertEquals(1, c.position(0));
    c.ensureRoom(0, 1);
  }

  @Test
  void slidingWindowOverwritesTheOldestToken() {
    KVCache c = cache(1, 3, KVCache.EvictionPolicy.SLIDING_WINDOW, KVCache.Storage.FLOAT32);
    float[][] k = new float[7][15];
    for (int t = 0; t < 7; t++) {
      java.util.Arrays.fill(k[t], t + 1);
      c.put(0, 0, t, k[t], 0, k[t], 0);
      c.advance(0, 1);
    }
    assertEquals(7, c.position(0));
    assertEquals(3, c.visible(0));
    float[] out = new float[5];
    for (int t = 4; t < 7; t++) {
      c.read(0, 0, t, 2, false, out);
      assertEquals(t + 1, out[0]);
    }
    assertThrows(IllegalArgumentException.class, () -> c.read(0, 0, 3, 0, false, out));
    assertThrows(IllegalArgumentException.class, () -> c.truncate(0, 5));
  }

  /** Attention over the cache equals a plain double-precision softmax(q·K)·V over the visible tokens. */
  @Test
  void attendMatchesReferenceForBothKernelsAndStorages() {
    SplittableRandom r = new SplittableRandom(7);
    for (KVCache.Storage storage : KVCache.Storage.values()) {
      for (FloatKernels ops : new FloatKernels[] {FloatKernels.of(Vectorization.scalar()), FloatKernels.get()}) {
        int hd = 17;
        int cap = 9;
        KVCache c = KVCache.builder().layers(1).kvHeads(2).headDim(hd).capacity(cap).storage(storage)
            .policy(KVCache.EvictionPolicy.SLIDING_WINDOW).kernels(ops).build();
        float[][] k = new float[13][];
        float[][] v = new float[13][];
        for (int t = 0; t < 13; t++) {
          k[t] = random(2 * hd, r, 1);
          v[t] = random(2 * hd, r, 1);
          c.put(0, 0, t, k[t], 0, v[t], 0);
          float[] q = random(hd, r, 1);
          float[] out = new float[hd];
          c.attend(0, 0, t, 1, q, 0, 0.25f, out, 0, new float[cap]);
          float[] ref = reference(q, k, v, Math.max(0, t - cap + 1), t, 1, hd, 0.25);
          // f32: rounding only. int8: each K and V element within max|x|/254 (stated bound), which
          // moves these unit-scale outputs by at most a few 1e-2.
          double tol = storage == KVCache.Storage.FLOAT32 ? 1e-5 : 3e-2;
          for (int i = 0; i < hd; i++) {
            assertEquals(ref[i], out[i], tol, storage + " " + ops.getClass().getSimpleName() + " t=" + t + " i=" + i);
          }
          c.advance(0, 1);
        }
      }
    }
  }

  static float[] reference(float[] q, float[][] k, float[][] v, int first, int last, int head, int hd, double scale) {
    double[] s = new double[last + 1];
    double max = Double.NEGATIVE_INFINITY;
    for (int t = first; t <= last; t++) {
      double d = 0;
      for (int i = 0; i < hd; i++) {
        d += (double) q[i] * k[t][head * hd + i];
      }
      s[t] = d * scale;
      max = Math.max(max, s[t]);
    }
    double sum = 0;
    for (int t = first; t <= last; t++) {
      s[t] = Math.exp(s[t] - max);
      sum += s[t];
    }
    float[] out = new float[hd];
    for (int i = 0; i < hd; i++) {
      double a = 0;
      for (int t = first; t <= last; t++) {
        a += s[t] / sum * v[t][head * hd + i];
      }
      out[i] = (float) a;
    }
    return out;
  }

  /** The stated int8 bound: every element within max|x|/254 of the original, including edge values. */
  @Test
  void int8StorageIsWithinTheStatedBound() {
    KVCache c = KVCache.builder().layers(1).kvHeads(1).headDim(64).capacity(8).storage(KVCache.Storage.INT8).build();
    SplittableRandom r = new SplittableRandom(3);
    float[][] vectors = {
      random(64, r, 1), random(64, r, 1e-20), random(64, r, 1e20), new float[64], edge(), random(64, r, 3)
    };
    float[] out = new float[64];
    for (int t = 0; t < vectors.length; t++) {
      c.put(0, 0, t, vectors[t], 0, vectors[t], 0);
      c.advance(0, 1);
      float max = 0;
      for (float x : vectors[t]) {
        max = Math.max(max, Math.abs(x));
      }
      for (boolean value : new boolean[] {false, true}) {
        c.read(0, 0, t, 0, value, out);
        for (int i = 0; i < 64; i++) {
          assertTrue(Math.abs(out[i] - vectors[t][i]) <= max / 254 * (1 + 1e-6) + Float.MIN_VALUE,
              "t=" + t + " i=" + i + ": " + vectors[t][i] + " -> " + out[i]);
        }
      }
    }
    assertEquals(2L * 8 * 64 + 2L * 8 * 4, c.memoryBytes());
  }

  static float[] edge() {
    float[] v = new float[64];
    v[0] = 127f;
    v[1] = -127f;
    v[2] = 0.5f;
    v[3] = -0.5f;
    v[4] = 1.5f;
    v[5] = -63.5f;
    return v;
  }

  @Test
  void sequencesAreIndependent() {
    KVCache c = cache(3, 4, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
    float[] a = new float[15];
    float[] b = new float[15];
    java.util.Arrays.fill(a, 1);
    java.util.Arrays.fill(b, 2);
    c.put(0, 0, 0, a, 0, a, 0);
    c.put(0, 2, 0, b, 0, b, 0);
    c.advance(0, 1);
    c.advance(2, 1);
    float[] out = new float[5];
    c.read(0, 0, 0, 1, false, out);
    assertEquals(1f, out[4]);
    c.read(0, 2, 0, 1, false, out);
    assertEquals(2f, out[4]);
    c.resetAll();
    assertEquals(0, c.position(2));
    assertThrows(IndexOutOfBoundsException.class, () -> c.position(3));
    assertThrows(IndexOutOfBoundsException.class, () -> c.put(2, 0, 0, a, 0, a, 0));
  }

  /** Regression: attend read stale slots after reset, beyond the newest put and on an empty sequence. */
  @Test
  void attendRefusesTokensThatWereNeverStored() {
    KVCache c = cache(1, 4, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
    float[] kv = new float[15];
    java.util.Arrays.fill(kv, 1f);
    float[] q = new float[5];
    float[] out = new float[5];
    float[] scores = new float[4];
    ShapeException empty = assertThrows(ShapeException.class, () -> c.attend(0, 0, 0, 0, q, 0, 1f, out, 0, scores));
    assertTrue(empty.getMessage().contains("none"), empty.getMessage());
    for (int t = 0; t < 3; t++) {
      c.put(0, 0, t, kv, 0, kv, 0);
      c.put(1, 0, t, kv, 0, kv, 0);
      c.advance(0, 1);
    }
    c.attend(0, 0, 2, 0, q, 0, 1f, out, 0, scores);
    assertThrows(ShapeException.class, () -> c.attend(0, 0, 3, 0, q, 0, 1f, out, 0, scores), "beyond the newest put");
    c.reset(0);
    c.put(0, 0, 0, kv, 0, kv, 0);
    c.attend(0, 0, 0, 0, q, 0, 1f, out, 0, scores);
    assertThrows(ShapeException.class, () -> c.attend(0, 0, 2, 0, q, 0, 1f, out, 0, scores), "stale after reset");
    assertThrows(ShapeException.class, () -> c.attend(1, 0, 0, 0, q, 0, 1f, out, 0, scores), "layer 1 not put since reset");
  }

  @Test
  void slidingWindowRefusesSlotsOverwrittenByADiscardedToken() {
    KVCache c = cache(1, 3, KVCache.EvictionPolicy.SLIDING_WINDOW, KVCache.Storage.FLOAT32);
    float[] kv = new float[15];
    float[] q = new float[5];
    float[] out = new float[5];
    for (int t = 0; t < 5; t++) {
      c.put(0, 0, t, kv, 0, kv, 0);
      c.advance(0, 1);
    }
    c.put(0, 0, 5, kv, 0, kv, 0);
    c.put(0, 0, 6, kv, 0, kv, 0);
    c.attend(0, 0, 6, 0, q, 0, 1f, out, 0, new float[3]);
    // Re-putting 5 discards 6, whose slot held token 3: attention at 5 would need it.
    c.put(0, 0, 5, kv, 0, kv, 0);
    assertThrows(ShapeException.class, () -> c.attend(0, 0, 5, 0, q, 0, 1f, out, 0, new float[3]));
  }

  /** Regression: advance past Integer.MAX_VALUE wrapped the position negative. */
  @Test
  void slidingWindowPositionDoesNotOverflow() {
    KVCache c = cache(1, 3, KVCache.EvictionPolicy.SLIDING_WINDOW, KVCache.Storage.FLOAT32);
    float[] kv = new float[15];
    c.advance(0, Integer.MAX_VALUE - 1);
    c.put(0, 0, Integer.MAX_VALUE - 1, kv, 0, kv, 0);
    c.advance(0, 1);
    assertEquals(Integer.MAX_VALUE, c.position(0));
    ShapeException e = assertThrows(ShapeException.class, () -> c.advance(0, 1));
    assertTrue(e.getMessage().contains("overflow"), e.getMessage());
    assertThrows(ShapeException.class, () -> c.put(0, 0, Integer.MAX_VALUE, kv, 0, kv, 0));
    assertEquals(Integer.MAX_VALUE, c.position(0));
  }

  /** Regression: short arrays gave raw index errors. */
  @Test
  void shortArraysAreShapeErrors() {
    KVCache c = cache(1, 4, KVCache.EvictionPolicy.ERROR, KVCache.Storage.INT8);
    float[] kv = new float[15];
    c.put(0, 0, 0, kv, 0, kv, 0);
    assertThrows(ShapeException.class, () -> c.put(0, 0, 0, new float[14], 0, kv, 0));
    assertThrows(ShapeException.class, () -> c.put(0, 0, 0, kv, 1, kv, 0));
    assertThrows(ShapeException.class, () -> c.attend(0, 0, 0, 0, new float[4], 0, 1f, new float[5], 0, new float[4]));
    assertThrows(ShapeException.class, () -> c.attend(0, 0, 0, 0, new float[5], 0, 1f, new float[5], 1, new float[4]));
    assertThrows(ShapeException.class, () -> c.attend(0, 0, 0, 0, new float[5], -1, 1f, new float[5], 0, new float[4]));
    c.advance(0, 1);
    assertThrows(ShapeException.class, () -> c.read(0, 0, 0, 0, false, new float[4]));
  }

  @Test
  void builderValidates() {
    assertThrows(ConfigException.class, () -> KVCache.builder().layers(1).kvHeads(1).headDim(4).build());
    assertThrows(ConfigException.class, () -> KVCache.builder().layers(1).kvHeads(0).headDim(4).capacity(1).build());
    assertThrows(ConfigException.class, () -> KVCache.builder().layers(1000).sequences(1000).kvHeads(100).headDim(128).capacity(100000).build());
  }
}
