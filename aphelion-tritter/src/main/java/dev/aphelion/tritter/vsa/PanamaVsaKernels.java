package dev.aphelion.tritter.vsa;

import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link VsaKernels} on the Java Vector API: the same word formulas as {@link ScalarVsaKernels}
 * applied to {@code LongVector}s of the preferred width, popcounts through {@code
 * VectorOperators.BIT_COUNT}, and a scalar tail. Loaded by name only, through {@code
 * dev.aphelion.tritter.kernel.Vectorization}; do not reference it directly.
 */
final class PanamaVsaKernels implements VsaKernels {
  private static final VectorSpecies<Long> S = LongVector.SPECIES_PREFERRED;

  /** Creates the kernels. */
  PanamaVsaKernels() {}

  @Override
  public void bind(long[] aP, long[] aM, long[] bP, long[] bM, long[] outP, long[] outM, int words) {
    int bound = S.loopBound(words);
    int w = 0;
    for (; w < bound; w += S.length()) {
      LongVector ap = LongVector.fromArray(S, aP, w), am = LongVector.fromArray(S, aM, w);
      LongVector bp = LongVector.fromArray(S, bP, w), bm = LongVector.fromArray(S, bM, w);
      LongVector az = ap.or(am).not(), bz = bp.or(bm).not();
      am.and(bp).or(az.and(bm)).or(ap.and(bz)).intoArray(outP, w);
      am.and(bz).or(az.and(bp)).or(ap.and(bm)).intoArray(outM, w);
    }
    ScalarVsaKernels.bindWords(aP, aM, bP, bM, outP, outM, w, words);
  }

  @Override
  public void unbind(long[] cP, long[] cM, long[] bP, long[] bM, long[] outP, long[] outM, int words) {
    int bound = S.loopBound(words);
    int w = 0;
    for (; w < bound; w += S.length()) {
      LongVector cp = LongVector.fromArray(S, cP, w), cm = LongVector.fromArray(S, cM, w);
      LongVector bp = LongVector.fromArray(S, bP, w), bm = LongVector.fromArray(S, bM, w);
      LongVector cz = cp.or(cm).not(), bz = bp.or(bm).not();
      cp.and(bz).or(cz.and(bp)).or(cm.and(bm)).intoArray(outP, w);
      cm.and(bz).or(cz.and(bm)).or(cp.and(bp)).intoArray(outM, w);
    }
    ScalarVsaKernels.unbindWords(cP, cM, bP, bM, outP, outM, w, words);
  }

  @Override
  public long dot(long[] aP, long[] aM, long[] bP, long[] bM, int words) {
    int bound = S.loopBound(words);
    LongVector pos = LongVector.zero(S), neg = LongVector.zero(S);
    int w = 0;
    for (; w < bound; w += S.length()) {
      LongVector ap = LongVector.fromArray(S, aP, w), am = LongVector.fromArray(S, aM, w);
      LongVector bp = LongVector.fromArray(S, bP, w), bm = LongVector.fromArray(S, bM, w);
      pos = pos.add(ap.and(bp).lanewise(VectorOperators.BIT_COUNT)).add(am.and(bm).lanewise(VectorOperators.BIT_COUNT));
      neg = neg.add(ap.and(bm).lanewise(VectorOperators.BIT_COUNT)).add(am.and(bp).lanewise(VectorOperators.BIT_COUNT));
    }
    long r = pos.reduceLanes(VectorOperators.ADD) - neg.reduceLanes(VectorOperators.ADD);
    for (; w < words; w++) {
      r += Long.bitCount(aP[w] & bP[w]) + Long.bitCount(aM[w] & bM[w]) - Long.bitCount(aP[w] & bM[w]) - Long.bitCount(aM[w] & bP[w]);
    }
    return r;
  }

  @Override
  public long hamming(long[] aP, long[] aM, long[] bP, long[] bM, int words) {
    int bound = S.loopBound(words);
    LongVector acc = LongVector.zero(S);
    int w = 0;
    for (; w < bound; w += S.length()) {
      LongVector diff = LongVector.fromArray(S, aP, w).lanewise(VectorOperators.XOR, LongVector.fromArray(S, bP, w))
          .or(LongVector.fromArray(S, aM, w).lanewise(VectorOperators.XOR, LongVector.fromArray(S, bM, w)));
      acc = acc.add(diff.lanewise(VectorOperators.BIT_COUNT));
    }
    long r = acc.reduceLanes(VectorOperators.ADD);
    for (; w < words; w++) {
      r += Long.bitCount((aP[w] ^ bP[w]) | (aM[w] ^ bM[w]));
    }
    return r;
  }

  @Override
  public long nonZeroCount(long[] p, long[] m, int words) {
    int bound = S.loopBound(words);
    LongVector acc = LongVector.zero(S);
    int w = 0;
    for (; w < bound; w += S.length()) {
      acc = acc.add(LongVector.fromArray(S, p, w).or(LongVector.fromArray(S, m, w)).lanewise(VectorOperators.BIT_COUNT));
    }
    long r = acc.reduceLanes(VectorOperators.ADD);
    for (; w < words; w++) {
      r += Long.bitCount(p[w] | m[w]);
    }
    return r;
  }

  @Override
  public void bundle(long[][] plus, long[][] minus, long[] outP, long[] outM, int words) {
    int k = plus.length;
    int levels = 32 - Integer.numberOfLeadingZeros(k);
    LongVector[] cp = new LongVector[levels];
    LongVector[] cm = new LongVector[levels];
    LongVector zero = LongVector.zero(S);
    int bound = S.loopBound(words);
    int w = 0;
    for (; w < bound; w += S.length()) {
      java.util.Arrays.fill(cp, zero);
      java.util.Arrays.fill(cm, zero);
      for (int v = 0; v < k; v++) {
        increment(cp, LongVector.fromArray(S, plus[v], w));
        increment(cm, LongVector.fromArray(S, minus[v], w));
      }
      LongVector gt = zero, lt = zero, eq = zero.not();
      for (int l = levels - 1; l >= 0; l--) {
        gt = gt.or(eq.and(cp[l]).and(cm[l].not()));
        lt = lt.or(eq.and(cp[l].not()).and(cm[l]));
        eq = eq.and(cp[l].lanewise(VectorOperators.XOR, cm[l]).not());
      }
      gt.intoArray(outP, w);
      lt.intoArray(outM, w);
    }
    ScalarVsaKernels.bundleWords(plus, minus, outP, outM, w, words);
  }

  private static void increment(LongVector[] counter, LongVector bits) {
    LongVector carry = bits;
    for (int l = 0; l < counter.length; l++) {
      LongVector t = counter[l].and(carry);
      counter[l] = counter[l].lanewise(VectorOperators.XOR, carry);
      carry = t;
    }
  }
}
