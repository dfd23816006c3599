package dev.aphelion.tritter.vsa;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.random.SplitMix64;
import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable vector of trits ({@code -1, 0, +1}) stored as two bit planes: bit {@code d % 64} of
 * word {@code d / 64} is set in the plus plane when trit {@code d} is +1 and in the minus plane when
 * it is -1; never in both, and never beyond the dimension. This is the layout of trit-vsa's
 * bit-sliced vectors; operations live in {@link VsaOps}.
 */
public final class TritVector {
  private final int dimension;
  private final long[] plus;
  private final long[] minus;

  private TritVector(int dimension, long[] plus, long[] minus) {
    this.dimension = dimension;
    this.plus = plus;
    this.minus = minus;
  }

  /** Wraps planes that the caller guarantees valid and no longer touches. */
  static TritVector wrap(int dimension, long[] plus, long[] minus) {
    return new TritVector(dimension, plus, minus);
  }

  /**
   * The number of 64-bit words per plane for a dimension.
   *
   * @param dimension the dimension, at least 1
   * @return {@code ceil(dimension / 64)}
   */
  public static int wordsFor(int dimension) {
    return (dimension + 63) >>> 6;
  }

  /**
   * The all-zero vector.
   *
   * @param dimension the dimension, at least 1
   * @return the vector
   * @throws ShapeException if the dimension is not positive
   */
  public static TritVector zeros(int dimension) {
    checkDimension(dimension);
    return new TritVector(dimension, new long[wordsFor(dimension)], new long[wordsFor(dimension)]);
  }

  /**
   * A vector from trit values.
   *
   * @param trits values, each -1, 0 or +1; at least one
   * @return the vector
   * @throws ShapeException if the array is empty or a value is not a trit
   */
  public static TritVector of(int... trits) {
    Objects.requireNonNull(trits, "trits");
    checkDimension(trits.length);
    long[] p = new long[wordsFor(trits.length)];
    long[] m = new long[p.length];
    for (int i = 0; i < trits.length; i++) {
      int t = trits[i];
      if (t == 1) {
        p[i >>> 6] |= 1L << i;
      } else if (t == -1) {
        m[i >>> 6] |= 1L << i;
      } else if (t != 0) {
        throw new ShapeException("trit " + i + " is " + t + ", expected -1, 0 or +1");
      }
    }
    return new TritVector(trits.length, p, m);
  }

  /**
   * A vector from its bit planes (copied).
   *
   * @param dimension the dimension, at least 1
   * @param plus the plus plane, {@link #wordsFor}{@code (dimension)} words
   * @param minus the minus plane, same length
   * @return the vector
   * @throws ShapeException if lengths are wrong, a dimension is set in both planes, or bits are set
   *     beyond the dimension
   */
  public static TritVector ofPlanes(int dimension, long[] plus, long[] minus) {
    checkDimension(dimension);
    int words = wordsFor(dimension);
    if (plus.length != words || minus.length != words) {
      throw new ShapeException("dimension " + dimension + " needs " + words + " words per plane, got "
          + plus.length + " and " + minus.length);
    }
    for (int w = 0; w < words; w++) {
      if ((plus[w] & minus[w]) != 0) {
        int bit = Long.numberOfTrailingZeros(plus[w] & minus[w]);
        throw new ShapeException("dimension " + (w * 64 + bit) + " is set in both the plus and the minus plane");
      }
    }
    long tailMask = tailMask(dimension);
    if (((plus[words - 1] | minus[words - 1]) & ~tailMask) != 0) {
      throw new ShapeException("bits set beyond dimension " + dimension);
    }
    return new TritVector(dimension, plus.clone(), minus.clone());
  }

  /**
   * A seeded random vector with each trit uniform over {@code {-1, 0, +1}}: trit {@code i} is {@code
   * nextInt(3) - 1} of the {@code i}-th draw of {@link SplitMix64}{@code (seed)}. Identical on every
   * JVM and platform.
   *
   * @param dimension the dimension, at least 1
   * @param seed the seed
   * @return the vector
   */
  public static TritVector random(int dimension, long seed) {
    checkDimension(dimension);
    SplitMix64 rng = new SplitMix64(seed);
    long[] p = new long[wordsFor(dimension)];
    long[] m = new long[p.length];
    for (int i = 0; i < dimension; i++) {
      int t = rng.nextInt(3) - 1;
      if (t > 0) {
        p[i >>> 6] |= 1L << i;
      } else if (t < 0) {
        m[i >>> 6] |= 1L << i;
      }
    }
    return new TritVector(dimension, p, m);
  }

  /**
   * A seeded random dense bipolar vector (every trit ±1): word {@code w} of the plus plane is the
   * {@code w}-th output of {@link SplitMix64}{@code (seed)} (masked to the dimension), the minus plane
   * its complement. Identical on every JVM and platform.
   *
   * @param dimension the dimension, at least 1
   * @param seed the seed
   * @return the vector
   */
  public static TritVector randomBipolar(int dimension, long seed) {
    checkDimension(dimension);
    SplitMix64 rng = new SplitMix64(seed);
    int words = wordsFor(dimension);
    long[] p = new long[words];
    long[] m = new long[words];
    for (int w = 0; w < words; w++) {
      long mask = w == words - 1 ? tailMask(dimension) : -1L;
      long r = rng.nextLong();
      p[w] = r & mask;
      m[w] = ~r & mask;
    }
    return new TritVector(dimension, p, m);
  }

  /** The number of trits. */
  public int dimension() {
    return dimension;
  }

  /**
   * One trit.
   *
   * @param index 0 to dimension-1
   * @return -1, 0 or +1
   * @throws IndexOutOfBoundsException if the index is outside the vector
   */
  public int get(int index) {
    Objects.checkIndex(index, dimension);
    long bit = 1L << index;
    int w = index >>> 6;
    return (plus[w] & bit) != 0 ? 1 : (minus[w] & bit) != 0 ? -1 : 0;
  }

  /** The trits as an array of -1, 0, +1. */
  public int[] toArray() {
    int[] out = new int[dimension];
    for (int i = 0; i < dimension; i++) {
      out[i] = get(i);
    }
    return out;
  }

  /** A copy of the plus plane. */
  public long[] plusPlane() {
    return plus.clone();
  }

  /** A copy of the minus plane. */
  public long[] minusPlane() {
    return minus.clone();
  }

  long[] plusWords() {
    return plus;
  }

  long[] minusWords() {
    return minus;
  }

  static long tailMask(int dimension) {
    int r = dimension & 63;
    return r == 0 ? -1L : (1L << r) - 1;
  }

  private static void checkDimension(int dimension) {
    if (dimension < 1) {
      throw new ShapeException("a trit vector needs a dimension of at least 1, got " + dimension);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TritVector t && t.dimension == dimension && Arrays.equals(t.plus, plus) && Arrays.equals(t.minus, minus);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * dimension + Arrays.hashCode(plus)) + Arrays.hashCode(minus);
  }

  /** Up to the first 64 trits as {@code +}, {@code 0}, {@code -} characters. */
  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("TritVector[").append(dimension).append("] ");
    int shown = Math.min(dimension, 64);
    for (int i = 0; i < shown; i++) {
      int t = get(i);
      b.append(t > 0 ? '+' : t < 0 ? '-' : '0');
    }
    if (shown < dimension) {
      b.append("...");
    }
    return b.toString();
  }
}
