package dev.aphelion.tritter.compress;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link SketchKernels} on the Java Vector API: the rotation as two contiguous runs, key bits as
 * lane masks for a masked negation, 16 virtual lanes for the specified summation order. Results
 * equal {@link ScalarSketchKernels} bit for bit. Loaded by name only, through {@code
 * dev.aphelion.tritter.kernel.Vectorization}; do not reference it directly.
 */
final class PanamaSketchKernels implements SketchKernels {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  private static final int LANES = ScalarSketchKernels.LANES;
  private static final int CHUNK = ScalarSketchKernels.CHUNK;

  /** Creates the kernels. */
  PanamaSketchKernels() {}

  /** The L key bits starting at bit t (L <= 16, so at most two words are touched). */
  private static long keyBits(long[] keys, int t) {
    int w = t >>> 6, b = t & 63;
    long bits = keys[w] >>> b;
    if (b + L > 64) {
      bits |= keys[w + 1] << (64 - b);
    }
    return bits;
  }

  @Override
  public void bindAdd(float[] h, int m, int r, float[] e, int from, int len, long[] keys) {
    int split = Math.min(len, m - r); // t < split goes to u = t + r, the rest to u = t + r - m
    bindRun(h, r, e, from, 0, split, keys);
    if (split < len) {
      bindRun(h, r - m, e, from, split, len, keys);
    }
  }

  private static void bindRun(float[] h, int shift, float[] e, int from, int t0, int t1, long[] keys) {
    int t = t0;
    for (; t + L <= t1 && t + L + 64 <= 64L * keys.length; t += L) {
      VectorMask<Float> neg = VectorMask.fromLong(S, keyBits(keys, t));
      FloatVector v = FloatVector.fromArray(S, e, from + t).lanewise(VectorOperators.NEG, neg);
      FloatVector.fromArray(S, h, t + shift).add(v).intoArray(h, t + shift);
    }
    for (; t < t1; t++) {
      float v = e[from + t];
      h[t + shift] = h[t + shift] + (ScalarSketchKernels.key(keys, t) ? -v : v);
    }
  }

  @Override
  public void unbind(float[] d, int m, int r, long[] keys, float[] out, int from, int len, int op) {
    int split = Math.min(len, m - r);
    unbindRun(d, r, keys, out, from, 0, split, op);
    if (split < len) {
      unbindRun(d, r - m, keys, out, from, split, len, op);
    }
  }

  private static void unbindRun(float[] d, int shift, long[] keys, float[] out, int from, int t0, int t1, int op) {
    int t = t0;
    for (; t + L <= t1 && t + L + 64 <= 64L * keys.length; t += L) {
      VectorMask<Float> neg = VectorMask.fromLong(S, keyBits(keys, t));
      FloatVector v = FloatVector.fromArray(S, d, t + shift).lanewise(VectorOperators.NEG, neg);
      int i = from + t;
      switch (op) {
        case SET -> v.intoArray(out, i);
        case ADD -> FloatVector.fromArray(S, out, i).add(v).intoArray(out, i);
        default -> FloatVector.fromArray(S, out, i).sub(v).intoArray(out, i);
      }
    }
    for (; t < t1; t++) {
      int u = t + shift;
      float v = ScalarSketchKernels.key(keys, t) ? -d[u] : d[u];
      int i = from + t;
      switch (op) {
        case SET -> out[i] = v;
        case ADD -> out[i] = out[i] + v;
        default -> out[i] = out[i] - v;
      }
    }
  }

  @Override
  public double laneSum(float[] h, int m, float threshold) {
    if (L > LANES || LANES % L != 0) {
      return new ScalarSketchKernels().laneSum(h, m, threshold);
    }
    int groups = LANES / L; // vectors per row of 16 virtual lanes
    FloatVector[] acc = new FloatVector[groups];
    FloatVector zero = FloatVector.zero(S);
    float[] lanes = new float[L];
    double total = 0;
    for (int c = 0; c < m; c += CHUNK) {
      java.util.Arrays.fill(acc, zero);
      int end = Math.min(m, c + CHUNK);
      int u = c;
      for (; u + LANES <= end; u += LANES) {
        for (int g = 0; g < groups; g++) {
          FloatVector a = FloatVector.fromArray(S, h, u + g * L).abs();
          acc[g] = acc[g].add(zero.blend(a, a.compare(VectorOperators.GT, threshold)));
        }
      }
      if (u < end) { // last partial row: lanes past m add nothing
        for (int g = 0; g < groups; g++) {
          VectorMask<Float> in = S.indexInRange(u + g * L, end);
          FloatVector a = FloatVector.fromArray(S, h, u + g * L, in).abs();
          acc[g] = acc[g].add(zero.blend(a, a.compare(VectorOperators.GT, threshold).and(in)));
        }
      }
      double chunk = 0;
      for (int g = 0; g < groups; g++) {
        acc[g].intoArray(lanes, 0);
        for (int l = 0; l < L; l++) {
          chunk += lanes[l];
        }
      }
      total += chunk;
    }
    return total;
  }

  @Override
  public int ternarize(float[] h, int m, float threshold, byte[] out, int offset) {
    int nnz = 0;
    int u = 0;
    if (L % 4 == 0) {
      float negThreshold = -threshold;
      for (; u + L <= m; u += L) {
        FloatVector v = FloatVector.fromArray(S, h, u);
        long pos = v.compare(VectorOperators.GT, threshold).toLong();
        long neg = v.compare(VectorOperators.LT, negThreshold).toLong();
        nnz += Long.bitCount(pos | neg);
        long codes = spread(pos) | (spread(neg) << 1);
        int o = offset + (u >>> 2);
        for (int b = 0; b < L / 4; b++) {
          out[o + b] = (byte) (codes >>> (8 * b));
        }
      }
    }
    return nnz + ScalarSketchKernels.ternarizeRange(h, u, m, threshold, out, offset);
  }

  @Override
  public void expand(byte[] in, int offset, int m, float value, float[] d) {
    int u = 0;
    if (L % 4 == 0) {
      FloatVector pos = FloatVector.broadcast(S, value), neg = FloatVector.broadcast(S, -value), zero = FloatVector.zero(S);
      for (; u + L <= m; u += L) {
        int o = offset + (u >>> 2);
        long codes = 0;
        for (int b = 0; b < L / 4; b++) {
          codes |= (in[o + b] & 0xFFL) << (8 * b);
        }
        VectorMask<Float> p = VectorMask.fromLong(S, gather(codes));
        VectorMask<Float> n = VectorMask.fromLong(S, gather(codes >>> 1));
        zero.blend(pos, p).blend(neg, n).intoArray(d, u);
      }
    }
    ScalarSketchKernels.expandRange(in, offset, u, m, value, d);
  }

  /** Moves bit i of the low 16 bits to bit 2i. */
  static long spread(long x) {
    x &= 0xFFFFL;
    x = (x | (x << 8)) & 0x00FF00FFL;
    x = (x | (x << 4)) & 0x0F0F0F0FL;
    x = (x | (x << 2)) & 0x33333333L;
    x = (x | (x << 1)) & 0x55555555L;
    return x;
  }

  /** Moves bit 2i of the low 32 bits to bit i (the inverse of {@link #spread}). */
  static long gather(long x) {
    x &= 0x55555555L;
    x = (x | (x >>> 1)) & 0x33333333L;
    x = (x | (x >>> 2)) & 0x0F0F0F0FL;
    x = (x | (x >>> 4)) & 0x00FF00FFL;
    x = (x | (x >>> 8)) & 0x0000FFFFL;
    return x;
  }
}
