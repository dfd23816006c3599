package dev.aphelion.tritter.compress;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link CompressionKernels} on the Java Vector API ({@code FloatVector} of the preferred width,
 * scalar tails). Loaded by name only, through {@code dev.aphelion.tritter.kernel.Vectorization}; do
 * not reference it directly.
 */
final class PanamaCompressionKernels implements CompressionKernels {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int CHUNK = ScalarCompressionKernels.SUM_CHUNK;
  private static final int LANES = ScalarCompressionKernels.SUM_LANES;

  /** Creates the kernels. */
  PanamaCompressionKernels() {}

  @Override
  public double sumOfSquares(float[] a, int n) {
    // the order CompressionKernels specifies: lane i % 16 accumulates with fma, lanes summed in
    // double in lane order every CHUNK elements; any vector width of 4, 8 or 16 floats gives it
    int width = S.length();
    if (width > LANES || LANES % width != 0) {
      return ScalarCompressionKernels.laneSumOfSquares(a, n);
    }
    double total = 0;
    int bound = n & ~(LANES - 1);
    float[] lanes = new float[LANES];
    for (int start = 0; start < bound; start += CHUNK) {
      int end = Math.min(bound, start + CHUNK);
      for (int part = 0; part < LANES; part += width) {
        FloatVector acc = FloatVector.zero(S);
        for (int i = start + part; i < end; i += LANES) {
          FloatVector v = FloatVector.fromArray(S, a, i);
          acc = v.fma(v, acc);
        }
        acc.intoArray(lanes, part);
      }
      for (float lane : lanes) {
        total += lane;
      }
    }
    return ScalarCompressionKernels.tailSumOfSquares(a, bound, n, total);
  }

  @Override
  public void addScaled(float[] acc, float[] g, float c, int n) {
    int bound = S.loopBound(n);
    int i = 0;
    for (; i < bound; i += S.length()) {
      // multiply then add (no fma), so results equal the scalar reference bit for bit
      FloatVector.fromArray(S, acc, i).add(FloatVector.fromArray(S, g, i).mul(c)).intoArray(acc, i);
    }
    ScalarCompressionKernels.addScaled(acc, g, c, i, n);
  }

  @Override
  public int collectAbove(float[] a, int n, float threshold, int[] idx, float[] vals) {
    // left-packing through a table: for each 8-lane comparison mask, row `mask` of PACK lists the
    // selected lanes first; one permute moves the values, the same row plus i gives the indices
    // (AVX2 has no compress instruction; this is its 8-lane equivalent)
    int bound = P.loopBound(n);
    int cap = Math.min(idx.length, vals.length);
    int count = 0;
    int i = 0;
    for (; i < bound && count + P.length() <= cap; i += P.length()) {
      FloatVector v = FloatVector.fromArray(P, a, i);
      int mask = (int) v.abs().compare(VectorOperators.GT, threshold).toLong();
      IntVector lanes = IntVector.fromArray(PI, PACK, mask << 3);
      lanes.add(i).intoArray(idx, count);
      lanes.selectFrom(v.reinterpretAsInts()).reinterpretAsFloats().intoArray(vals, count);
      count += Integer.bitCount(mask);
    }
    return ScalarCompressionKernels.collectAbove(a, threshold, idx, vals, count, i, n);
  }

  @Override
  public int addScaledCollectAbove(float[] acc, float[] g, float c, int n, float threshold, int[] idx, float[] vals) {
    int cap = Math.min(idx.length, vals.length);
    int count = 0;
    int i = 0;
    if (S.length() == 16) {
      // AVX-512 has a compress instruction: 16 lanes per step, no table
      int bound = S.loopBound(n);
      IntVector iota = IntVector.zero(SI).addIndex(1);
      for (; i < bound && count + S.length() <= cap; i += S.length()) {
        FloatVector v = FloatVector.fromArray(S, acc, i).add(FloatVector.fromArray(S, g, i).mul(c));
        v.intoArray(acc, i);
        VectorMask<Float> m = v.abs().compare(VectorOperators.GT, threshold);
        v.compress(m).intoArray(vals, count);
        iota.add(i).compress(m.cast(SI)).intoArray(idx, count);
        count += m.trueCount();
      }
    } else {
      int bound = P.loopBound(n);
      for (; i < bound && count + P.length() <= cap; i += P.length()) {
        FloatVector v = FloatVector.fromArray(P, acc, i).add(FloatVector.fromArray(P, g, i).mul(c));
        v.intoArray(acc, i);
        int mask = (int) v.abs().compare(VectorOperators.GT, threshold).toLong();
        IntVector lanes = IntVector.fromArray(PI, PACK, mask << 3);
        lanes.add(i).intoArray(idx, count);
        lanes.selectFrom(v.reinterpretAsInts()).reinterpretAsFloats().intoArray(vals, count);
        count += Integer.bitCount(mask);
      }
    }
    return ScalarCompressionKernels.addScaledCollectAbove(acc, g, c, threshold, idx, vals, count, i, n);
  }

  @Override
  public int collectBucket(float[] a, int n, int shift, int bucket, int[] out) {
    int count = 0;
    int i = 0;
    if (S.length() == 16) {
      int bound = SI.loopBound(n);
      for (; i < bound; i += 16) {
        IntVector bits = FloatVector.fromArray(S, a, i).reinterpretAsInts().and(0x7FFFFFFF);
        VectorMask<Integer> m = bits.lanewise(VectorOperators.LSHR, shift).compare(VectorOperators.EQ, bucket);
        bits.compress(m).intoArray(out, count);
        count += m.trueCount();
      }
    } else {
      int bound = PI.loopBound(n);
      for (; i < bound; i += 8) {
        IntVector bits = FloatVector.fromArray(P, a, i).reinterpretAsInts().and(0x7FFFFFFF);
        int mask = (int) bits.lanewise(VectorOperators.LSHR, shift).compare(VectorOperators.EQ, bucket).toLong();
        IntVector.fromArray(PI, PACK, mask << 3).selectFrom(bits).intoArray(out, count);
        count += Integer.bitCount(mask);
      }
    }
    return ScalarCompressionKernels.collectBucket(a, shift, bucket, out, count, i, n);
  }

  private static final VectorSpecies<Integer> SI = IntVector.SPECIES_512;

  /** 8 lanes: the packing table has 256 rows. */
  private static final VectorSpecies<Float> P = FloatVector.SPECIES_256;
  private static final VectorSpecies<Integer> PI = IntVector.SPECIES_256;
  private static final int[] PACK = new int[256 * 8];

  static {
    for (int mask = 0; mask < 256; mask++) {
      int k = 0;
      for (int lane = 0; lane < 8; lane++) {
        if ((mask >>> lane & 1) != 0) {
          PACK[mask * 8 + k++] = lane;
        }
      }
    }
  }
}
