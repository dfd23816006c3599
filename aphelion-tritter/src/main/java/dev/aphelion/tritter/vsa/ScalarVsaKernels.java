package dev.aphelion.tritter.vsa;

/**
 * The scalar reference implementation of {@link VsaKernels}: one 64-bit word at a time, with
 * {@link Long#bitCount} for popcounts.
 */
final class ScalarVsaKernels implements VsaKernels {

  /** Creates the kernels. */
  ScalarVsaKernels() {}

  @Override
  public void bind(long[] aP, long[] aM, long[] bP, long[] bM, long[] outP, long[] outM, int words) {
    bindWords(aP, aM, bP, bM, outP, outM, 0, words);
  }

  static void bindWords(long[] aP, long[] aM, long[] bP, long[] bM, long[] outP, long[] outM, int from, int to) {
    for (int w = from; w < to; w++) {
      long ap = aP[w], am = aM[w], bp = bP[w], bm = bM[w];
      long az = ~(ap | am), bz = ~(bp | bm);
      // (a-b) mod 3 is +1 for (N,P), (Z,N), (P,Z) and -1 for (N,Z), (Z,P), (P,N)
      outP[w] = (am & bp) | (az & bm) | (ap & bz);
      outM[w] = (am & bz) | (az & bp) | (ap & bm);
    }
  }

  @Override
  public void unbind(long[] cP, long[] cM, long[] bP, long[] bM, long[] outP, long[] outM, int words) {
    unbindWords(cP, cM, bP, bM, outP, outM, 0, words);
  }

  static void unbindWords(long[] cP, long[] cM, long[] bP, long[] bM, long[] outP, long[] outM, int from, int to) {
    for (int w = from; w < to; w++) {
      long cp = cP[w], cm = cM[w], bp = bP[w], bm = bM[w];
      long cz = ~(cp | cm), bz = ~(bp | bm);
      // (c+b) mod 3 is +1 for (P,Z), (Z,P), (N,N) and -1 for (N,Z), (Z,N), (P,P)
      outP[w] = (cp & bz) | (cz & bp) | (cm & bm);
      outM[w] = (cm & bz) | (cz & bm) | (cp & bp);
    }
  }

  @Override
  public long dot(long[] aP, long[] aM, long[] bP, long[] bM, int words) {
    long pos = 0, neg = 0;
    for (int w = 0; w < words; w++) {
      pos += Long.bitCount(aP[w] & bP[w]) + Long.bitCount(aM[w] & bM[w]);
      neg += Long.bitCount(aP[w] & bM[w]) + Long.bitCount(aM[w] & bP[w]);
    }
    return pos - neg;
  }

  @Override
  public long hamming(long[] aP, long[] aM, long[] bP, long[] bM, int words) {
    long n = 0;
    for (int w = 0; w < words; w++) {
      n += Long.bitCount((aP[w] ^ bP[w]) | (aM[w] ^ bM[w]));
    }
    return n;
  }

  @Override
  public long nonZeroCount(long[] p, long[] m, int words) {
    long n = 0;
    for (int w = 0; w < words; w++) {
      n += Long.bitCount(p[w] | m[w]);
    }
    return n;
  }

  @Override
  public void bundle(long[][] plus, long[][] minus, long[] outP, long[] outM, int words) {
    bundleWords(plus, minus, outP, outM, 0, words);
  }

  static void bundleWords(long[][] plus, long[][] minus, long[] outP, long[] outM, int from, int to) {
    int k = plus.length;
    int levels = 32 - Integer.numberOfLeadingZeros(k); // bits to count up to k
    long[] cp = new long[levels];
    long[] cm = new long[levels];
    for (int w = from; w < to; w++) {
      java.util.Arrays.fill(cp, 0L);
      java.util.Arrays.fill(cm, 0L);
      for (int v = 0; v < k; v++) {
        BitSliced.increment(cp, plus[v][w]);
        BitSliced.increment(cm, minus[v][w]);
      }
      long gt = 0, lt = 0, eq = -1L;
      for (int l = levels - 1; l >= 0; l--) {
        gt |= eq & cp[l] & ~cm[l];
        lt |= eq & ~cp[l] & cm[l];
        eq &= ~(cp[l] ^ cm[l]);
      }
      outP[w] = gt;
      outM[w] = lt;
    }
  }

  /** Bit-sliced counters: lane j of {@code counter[l]} is bit l of counter j. */
  static final class BitSliced {
    private BitSliced() {}

    /** Adds the one-bit values {@code bits} to 64 bit-sliced counters (ripple carry). */
    static void increment(long[] counter, long bits) {
      long carry = bits;
      for (int l = 0; l < counter.length && carry != 0; l++) {
        long t = counter[l] & carry;
        counter[l] ^= carry;
        carry = t;
      }
    }
  }
}
