package dev.aphelion.tritter.compress;

import jdk.incubator.vector.FloatVector;
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
  public int collectAbove(float[] a, int n, float threshold, int[] out) {
    int bound = S.loopBound(n);
    int cap = out.length;
    int count = 0;
    int i = 0;
    for (; i < bound; i += S.length()) {
      VectorMask<Float> m = FloatVector.fromArray(S, a, i).abs().compare(VectorOperators.GT, threshold);
      long bits = m.toLong();
      while (bits != 0) {
        if (count < cap) {
          out[count] = i + Long.numberOfTrailingZeros(bits);
        }
        count++;
        bits &= bits - 1;
      }
    }
    return ScalarCompressionKernels.collectAbove(a, threshold, out, count, i, n);
  }
}
