package dev.aphelion.tritter.compress;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
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

  private static final VectorSpecies<Integer> SI = S.vectorShape().withLanes(int.class);
  private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle SHORT_LE = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
  /** Lane l shifts key bit l to the sign bit. */
  private static final IntVector TO_SIGN = IntVector.fromArray(SI, shifts(31, -1), 0);
  /** Lane l shifts the 2-bit trit code of lane l down to bits 1..0. */
  private static final IntVector CODE_SHIFT = IntVector.fromArray(SI, shifts(0, 2), 0);
  /** Lane l shifts bit 2l + 1 to the sign bit. */
  private static final IntVector TRIT_TO_SIGN = IntVector.fromArray(SI, shifts(30, -2), 0);

  private static int[] shifts(int first, int step) {
    int[] s = new int[16];
    for (int l = 0; l < s.length; l++) {
      s[l] = first + step * l;
    }
    return s;
  }

  /** Creates the kernels. */
  PanamaSketchKernels() {}

  /**
   * The sign bits (bit 31 of lane l = key bit l) for L key bits, built with a variable shift: AVX2
   * has no instruction that turns a bit mask into a vector mask, and negating by XOR of the sign
   * equals {@code NEG} bit for bit.
   */
  private static IntVector signs(long keyBits) {
    return IntVector.broadcast(SI, (int) keyBits).lanewise(VectorOperators.LSHL, TO_SIGN).and(0x80000000);
  }

  private static FloatVector flip(FloatVector v, long keyBits) {
    return v.reinterpretAsInts().lanewise(VectorOperators.XOR, signs(keyBits)).reinterpretAsFloats();
  }

  /**
   * The 64 key bits starting at bit t (bit 0 of the result is key bit t), so that a run reads one
   * word per 64 values instead of a shifted pair per vector; bits past the last word read as 0.
   */
  private static long keyWord(long[] keys, int t) {
    int w = t >>> 6, b = t & 63;
    long bits = keys[w] >>> b;
    // two shifts: a Java shift by 64 would be a shift by 0
    return w + 1 < keys.length ? bits | (keys[w + 1] << 1 << (63 - b)) : bits;
  }

  @Override
  public void bindAdd(float[] h, int m, int r, float[] e, int from, int len, long[] keys) {
    int split = Math.min(len, m - r); // t < split goes to u = t + r, the rest to u = t + r - m
    bindRun(h, r, e, null, 0f, from, 0, split, keys);
    if (split < len) {
      bindRun(h, r - m, e, null, 0f, from, split, len, keys);
    }
  }

  @Override
  public void addScaledBindAdd(float[] h, int m, int r, float[] e, float[] g, float c, int from, int len, long[] keys) {
    int split = Math.min(len, m - r);
    bindRun(h, r, e, g, c, from, 0, split, keys);
    if (split < len) {
      bindRun(h, r - m, e, g, c, from, split, len, keys);
    }
  }

  /** {@code g == null}: bind {@code e}; otherwise first {@code e += c * g}, stored, then bind it. */
  private static void bindRun(float[] h, int shift, float[] e, float[] g, float c, int from, int t0, int t1, long[] keys) {
    int t = t0;
    while (t + L <= t1) {
      long bits = keyWord(keys, t);
      int stop = Math.min(t + 64, t1);
      for (; t + L <= stop; t += L, bits >>>= L) {
        FloatVector x = FloatVector.fromArray(S, e, from + t);
        if (g != null) {
          // multiply then add (no fma), as CompressionKernels.addScaled
          x = x.add(FloatVector.fromArray(S, g, from + t).mul(c));
          x.intoArray(e, from + t);
        }
        FloatVector.fromArray(S, h, t + shift).add(flip(x, bits)).intoArray(h, t + shift);
      }
    }
    for (; t < t1; t++) {
      float v = e[from + t];
      if (g != null) {
        v = v + c * g[from + t];
        e[from + t] = v;
      }
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
    while (t + L <= t1) {
      long bits = keyWord(keys, t);
      int stop = Math.min(t + 64, t1);
      for (; t + L <= stop; t += L, bits >>>= L) {
        apply(flip(FloatVector.fromArray(S, d, t + shift), bits), out, from + t, op);
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

  private static void apply(FloatVector v, float[] out, int i, int op) {
    switch (op) {
      case SET -> v.intoArray(out, i);
      case ADD -> FloatVector.fromArray(S, out, i).add(v).intoArray(out, i);
      default -> FloatVector.fromArray(S, out, i).sub(v).intoArray(out, i);
    }
  }

  @Override
  public void unbindTrits(byte[] in, int offset, int m, float value, int r, long[] keys, float[] out, int from, int len, int op) {
    int split = Math.min(len, m - r);
    tritRun(in, offset, m, value, r, keys, out, from, 0, split, op);
    if (split < len) {
      tritRun(in, offset, m, value, r - m, keys, out, from, split, len, op);
    }
  }

  /** Bucket {@code u = t + shift} for t in [t0, t1). */
  private static void tritRun(byte[] in, int offset, int m, float value, int shift, long[] keys, float[] out, int from, int t0,
      int t1, int op) {
    IntVector valueBits = IntVector.broadcast(SI, Float.floatToRawIntBits(value));
    // a vector reads the 8 bytes from the byte of its first trit: t + shift <= lastTrit keeps them inside the array
    long lastTrit = 4L * (in.length - 8 - offset) + 3;
    int tv1 = (int) Math.max(t0, Math.min(t1, lastTrit - shift + L));
    int t = t0;
    while (t + L <= tv1) {
      long bits = keyWord(keys, t);
      int stop = Math.min(t + 64, tv1);
      for (; t + L <= stop; t += L, bits >>>= L) {
        int u = t + shift;
        int codes = (int) ((long) LONG_LE.get(in, offset + (u >>> 2)) >>> (2 * (u & 3)));
        // per lane l, bit 2l: the trit is not 0; bit 2l + 1: its sign (code 10) XOR key bit l
        int nonZero = (codes | (codes >>> 1)) & 0x55555555;
        int sign = ((codes >>> 1) ^ Integer.expand((int) bits, 0x55555555)) & 0x55555555;
        // lane l shifted left by 30 - 2l: the sign at bit 31, "not 0" at bit 30
        IntVector z = IntVector.broadcast(SI, nonZero | (sign << 1)).lanewise(VectorOperators.LSHL, TRIT_TO_SIGN);
        IntVector magnitude = z.lanewise(VectorOperators.LSHL, 1).lanewise(VectorOperators.ASHR, 31).and(valueBits);
        apply(magnitude.lanewise(VectorOperators.XOR, z.and(0x80000000)).reinterpretAsFloats(), out, from + t, op);
      }
    }
    for (; t < t1; t++) {
      int u = t + shift;
      int code = (in[offset + (u >>> 2)] >>> (2 * (u & 3))) & 3;
      float d = code == 1 ? value : code == 2 ? -value : 0f;
      float v = ScalarSketchKernels.key(keys, t) ? -d : d;
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
    // 16 virtual lanes = LANES / L vectors, held in locals (an array of vectors would be boxed)
    int groups = LANES / L;
    FloatVector zero = FloatVector.zero(S);
    float[] lanes = new float[LANES];
    double total = 0;
    for (int c = 0; c < m; c += CHUNK) {
      FloatVector a0 = zero, a1 = zero, a2 = zero, a3 = zero;
      int end = Math.min(m, c + CHUNK);
      int u = c;
      for (; u + LANES <= end; u += LANES) {
        a0 = a0.add(above(FloatVector.fromArray(S, h, u), threshold, zero));
        if (groups > 1) {
          a1 = a1.add(above(FloatVector.fromArray(S, h, u + L), threshold, zero));
        }
        if (groups > 2) {
          a2 = a2.add(above(FloatVector.fromArray(S, h, u + 2 * L), threshold, zero));
          a3 = a3.add(above(FloatVector.fromArray(S, h, u + 3 * L), threshold, zero));
        }
      }
      a0.intoArray(lanes, 0);
      if (groups > 1) {
        a1.intoArray(lanes, L);
      }
      if (groups > 2) {
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
      }
      // last partial row: virtual lane l gets h[u + l] for u + l < end, in the same order
      for (int l = 0; u + l < end; l++) {
        float a = Math.abs(h[u + l]);
        lanes[l] += a > threshold ? a : 0f;
      }
      double chunk = 0;
      for (float lane : lanes) {
        chunk += lane;
      }
      total += chunk;
    }
    return total;
  }

  private static FloatVector above(FloatVector v, float threshold, FloatVector zero) {
    FloatVector a = v.abs();
    return zero.blend(a, a.compare(VectorOperators.GT, threshold));
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
        long codes = Long.expand(pos, 0x5555555555555555L) | Long.expand(neg, 0xAAAAAAAAAAAAAAAAL);
        int o = offset + (u >>> 2);
        switch (L) {
          case 16 -> INT_LE.set(out, o, (int) codes);
          case 8 -> SHORT_LE.set(out, o, (short) codes);
          default -> {
            for (int b = 0; b < L / 4; b++) {
              out[o + b] = (byte) (codes >>> (8 * b));
            }
          }
        }
      }
    }
    return nnz + ScalarSketchKernels.ternarizeRange(h, u, m, threshold, out, offset);
  }

  @Override
  public void expand(byte[] in, int offset, int m, float value, float[] d) {
    int u = 0;
    if (L % 4 == 0) {
      // code c of a lane: 01 gives value, 10 gives -value (the sign flipped, as the reference's
      // negation, also of a negative value), 00 gives +0; computed on the bits, without masks
      int valueBits = Float.floatToRawIntBits(value);
      for (; u + L <= m; u += L) {
        int o = offset + (u >>> 2);
        long codes = 0;
        for (int b = 0; b < L / 4; b++) {
          codes |= (in[o + b] & 0xFFL) << (8 * b);
        }
        IntVector c = IntVector.broadcast(SI, (int) codes).lanewise(VectorOperators.LSHR, CODE_SHIFT).and(3);
        IntVector negative = c.lanewise(VectorOperators.LSHR, 1);
        IntVector any = c.and(1).or(negative);
        any.neg().and(valueBits).lanewise(VectorOperators.XOR, negative.lanewise(VectorOperators.LSHL, 31)).reinterpretAsFloats().intoArray(d, u);
      }
    }
    ScalarSketchKernels.expandRange(in, offset, u, m, value, d);
  }

  @Override
  public void median3Unbind(float[] row0, float[] row1, float[] row2, int c, int r0, int r1, int r2, long[] k0, long[] k1,
      long[] k2, float[] out, int from, int len) {
    // each row's rotation wraps once: between the wrap points all three rows read contiguous runs
    int w0 = Math.min(len, c - r0), w1 = Math.min(len, c - r1), w2 = Math.min(len, c - r2);
    int a = 0;
    while (a < len) {
      int b = len;
      if (w0 > a) {
        b = Math.min(b, w0);
      }
      if (w1 > a) {
        b = Math.min(b, w1);
      }
      if (w2 > a) {
        b = Math.min(b, w2);
      }
      median3Run(row0, a < w0 ? r0 : r0 - c, row1, a < w1 ? r1 : r1 - c, row2, a < w2 ? r2 : r2 - c, k0, k1, k2, out, from, a, b);
      a = b;
    }
  }

  private static void median3Run(float[] row0, int s0, float[] row1, int s1, float[] row2, int s2, long[] k0, long[] k1, long[] k2,
      float[] out, int from, int t0, int t1) {
    int t = t0;
    while (t + L <= t1) {
      long b0 = keyWord(k0, t), b1 = keyWord(k1, t), b2 = keyWord(k2, t);
      int stop = Math.min(t + 64, t1);
      for (; t + L <= stop; t += L, b0 >>>= L, b1 >>>= L, b2 >>>= L) {
        FloatVector x = flip(FloatVector.fromArray(S, row0, t + s0), b0);
        FloatVector y = flip(FloatVector.fromArray(S, row1, t + s1), b1);
        FloatVector z = flip(FloatVector.fromArray(S, row2, t + s2), b2);
        // the network of CountSketch.median for three rows: (0,1), (1,2), (0,1)
        x.min(y).max(x.max(y).min(z)).intoArray(out, from + t);
      }
    }
    float[] v = new float[3];
    for (; t < t1; t++) {
      float x = row0[t + s0], y = row1[t + s1], z = row2[t + s2];
      v[0] = ScalarSketchKernels.key(k0, t) ? -x : x;
      v[1] = ScalarSketchKernels.key(k1, t) ? -y : y;
      v[2] = ScalarSketchKernels.key(k2, t) ? -z : z;
      out[from + t] = CountSketch.median(v, 3);
    }
  }

  @Override
  public void median(float[] tiles, int rows, int stride, int len, float[] out, int from) {
    int t = 0;
    if (rows == 3) {
      // the network of CountSketch.median for three rows, unrolled: (0,1), (1,2), (0,1)
      for (; t + L <= len; t += L) {
        FloatVector a = FloatVector.fromArray(S, tiles, t);
        FloatVector b = FloatVector.fromArray(S, tiles, stride + t);
        FloatVector c = FloatVector.fromArray(S, tiles, 2 * stride + t);
        FloatVector lo = a.min(b), hi = a.max(b);
        FloatVector mid = hi.min(c);
        lo.max(mid).intoArray(out, from + t);
      }
    } else if (rows > 1) {
      FloatVector[] v = new FloatVector[rows];
      for (; t + L <= len; t += L) {
        for (int row = 0; row < rows; row++) {
          v[row] = FloatVector.fromArray(S, tiles, row * stride + t);
        }
        for (int q = 0; q < rows; q++) {
          for (int a = q & 1; a + 1 < rows; a += 2) {
            FloatVector lo = v[a].min(v[a + 1]);
            v[a + 1] = v[a].max(v[a + 1]);
            v[a] = lo;
          }
        }
        v[rows >>> 1].intoArray(out, from + t);
      }
    }
    ScalarSketchKernels.medianRange(tiles, rows, stride, t, len, out, from);
  }
}
