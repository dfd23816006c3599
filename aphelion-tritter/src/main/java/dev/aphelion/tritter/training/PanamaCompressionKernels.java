package dev.aphelion.tritter.training;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link CompressionKernels} on the Java Vector API ({@code FloatVector} of the preferred width,
 * scalar tails). Loaded by name only, through {@code dev.aphelion.tritter.vector.Vectorization}; do
 * not reference it directly.
 */
public final class PanamaCompressionKernels implements CompressionKernels {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int CHUNK = 1024; // float partial sums stay accurate over short chunks

  /** Creates the kernels. */
  public PanamaCompressionKernels() {}

  @Override
  public double sumOfSquares(float[] a, int n) {
    double total = 0;
    int bound = S.loopBound(n);
    int i = 0;
    while (i < bound) {
      int end = Math.min(bound, i + CHUNK);
      FloatVector acc = FloatVector.zero(S);
      for (; i < end; i += S.length()) {
        FloatVector v = FloatVector.fromArray(S, a, i);
        acc = v.fma(v, acc);
      }
      total += acc.reduceLanes(VectorOperators.ADD);
    }
    for (; i < n; i++) {
      double v = a[i];
      total += v * v;
    }
    return total;
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
