package dev.aphelion.tritter.compress;

import dev.aphelion.tritter.random.SplitMix64;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The VSA sketch encoding ({@link GradientEncoding#VSA_SKETCH}) as specified in {@code
 * docs/formats.md}: the hypervector dimension, the per-step keys and rotations, the encoder and the
 * decoder. The float passes run on {@link SketchKernels}; everything else here is the scalar
 * reference and is shared by both kernel paths.
 */
final class VsaSketch {
  /** Bytes before the packed trits: the common header, m and the scale. */
  static final int HEADER_BYTES = GradientWireFormat.HEADER_BYTES;
  /** Ternarization threshold: theta = ALPHA * mean |h|. */
  static final double ALPHA = 0.7;

  private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private VsaSketch() {}

  /**
   * The hypervector dimension for a gradient of {@code n} values at a wire ratio: as many 2-bit
   * buckets as fit {@code floor(ratio * 4 * n)} bytes after the 40 bytes of header, scale and
   * checksum, clamped to {@code [1, n]}.
   */
  static int dimension(int n, double ratio) {
    return GradientWireFormat.sketchDimension(n, ratio);
  }

  /** The seed of one step's keys: {@code mix64(seed ^ mix64(step ^ KEY_DOMAIN))}. */
  static long stepSeed(long seed, long step) {
    return GradientWireFormat.sketchStepSeed(seed, step);
  }

  /** The generator state of block j: {@code z_j = mix64(stepSeed + j)}. */
  static long blockState(long stepSeed, int j) {
    return SplitMix64.mix64(stepSeed + j);
  }

  /** Output k (1-based) of the SplitMix64 generator started at state z. */
  static long output(long z, long k) {
    return SplitMix64.mix64(z + k * SplitMix64.GOLDEN_GAMMA);
  }

  /** The rotation of a block: output 1, reduced to [0, m) by multiply-high of its upper 32 bits. */
  static int rotation(long z, int m) {
    return (int) (((output(z, 1) >>> 32) * m) >>> 32);
  }

  /** Fills {@code ceil(len / 64)} key words: word w is output {@code w + 2}. */
  static void keys(long z, int len, long[] out) {
    int words = (len + 63) >>> 6;
    for (int w = 0; w < words; w++) {
      out[w] = output(z, w + 2);
    }
  }

  /** Number of blocks of a gradient of n values over m buckets. */
  static int blocks(int n, int m) {
    return (int) (((long) n + m - 1) / m);
  }

  /**
   * Adds {@code c * g} to the residual {@code e} (as {@link CompressionKernels#addScaled}) and
   * encodes the result into a complete message, leaving the bundled hypervector in {@code h}: the
   * residual update rides on the binding pass.
   *
   * @return the wire bytes
   */
  static byte[] encode(SketchKernels k, float[] e, float[] g, float c, int n, int m, long seed, long step, long fingerprint,
      float[] h, long[] keyWords) {
    java.util.Arrays.fill(h, 0, m, 0f);
    long s = stepSeed(seed, step);
    int blocks = blocks(n, m);
    int lastR = 0, lastLen = 0;
    for (int j = 0; j < blocks; j++) {
      long z = blockState(s, j);
      int len = Math.min(m, n - j * m);
      int r = rotation(z, m);
      keys(z, len, keyWords);
      k.addScaledBindAdd(h, m, r, e, g, c, j * m, len, keyWords);
      lastR = r;
      lastLen = len;
    }
    double sum = k.laneSum(h, m, Float.NEGATIVE_INFINITY);
    float theta = (float) (ALPHA * (sum / m));
    int tritBytes = (m + 3) >>> 2;
    int size = GradientWireFormat.sketchMessageBytes(m);
    byte[] out = new byte[size];
    int nnz = k.ternarize(h, m, theta, out, HEADER_BYTES);
    double kept = k.laneSum(h, m, theta);
    // count_u = number of blocks covering bucket u: all full blocks, plus the last one where
    // (u - r_last) mod m < len_last
    long covered = (long) nnz * (blocks - 1)
        + (lastLen == m ? nnz : countNonZero(out, HEADER_BYTES, lastR, lastLen, m));
    float scale = covered == 0 ? 0f : (float) (kept / (double) covered);

    return GradientWireFormat.sealSketch(out, n, step, fingerprint, m, scale);
  }

  /**
   * The number of non-zero trits u with {@code (u - r) mod m < len}: the ranges [r, min(m, r+len))
   * and [0, r + len - m).
   */
  static int countNonZero(byte[] trits, int offset, int r, int len, int m) {
    int end = r + len;
    if (end <= m) {
      return countNonZero(trits, offset, r, end);
    }
    return countNonZero(trits, offset, r, m) + countNonZero(trits, offset, 0, end - m);
  }

  /** Non-zero trits among [u0, u1). */
  static int countNonZero(byte[] trits, int offset, int u0, int u1) {
    int count = 0;
    int u = u0;
    while (u < u1 && (u & 3) != 0) {
      count += ((trits[offset + (u >>> 2)] >>> (2 * (u & 3))) & 3) != 0 ? 1 : 0;
      u++;
    }
    for (; u + 32 <= u1; u += 32) {
      long b = (long) LONG_LE.get(trits, offset + (u >>> 2));
      count += Long.bitCount((b | (b >>> 1)) & 0x5555555555555555L);
    }
    for (; u + 4 <= u1; u += 4) {
      int b = trits[offset + (u >>> 2)];
      count += Integer.bitCount((b | (b >>> 1)) & 0x55);
    }
    for (; u < u1; u++) {
      count += ((trits[offset + (u >>> 2)] >>> (2 * (u & 3))) & 3) != 0 ? 1 : 0;
    }
    return count;
  }

  /**
   * Unbinds every block of a message: {@code out[i] (op)= key_j(t) ? -d[(t + r_j) % m] : d[(t + r_j) % m]}
   * for {@code i = j * m + t}.
   */
  static void unbindAll(SketchKernels k, float[] d, int n, int m, long seed, long step, long[] keyWords,
      float[] out, int op) {
    long s = stepSeed(seed, step);
    int blocks = blocks(n, m);
    for (int j = 0; j < blocks; j++) {
      long z = blockState(s, j);
      int len = Math.min(m, n - j * m);
      int r = rotation(z, m);
      keys(z, len, keyWords);
      k.unbind(d, m, r, keyWords, out, j * m, len, op);
    }
  }

  /**
   * {@link #unbindAll} of the buckets a message's trits decode to ({@code +value, -value, +0}),
   * read from the packed trits without expanding them first.
   */
  static void unbindTritsAll(SketchKernels k, byte[] trits, int offset, int m, float value, int n, long seed, long step,
      long[] keyWords, float[] out, int op) {
    long s = stepSeed(seed, step);
    int blocks = blocks(n, m);
    for (int j = 0; j < blocks; j++) {
      long z = blockState(s, j);
      int len = Math.min(m, n - j * m);
      int r = rotation(z, m);
      keys(z, len, keyWords);
      k.unbindTrits(trits, offset, m, value, r, keyWords, out, j * m, len, op);
    }
  }
}
