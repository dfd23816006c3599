package dev.aphelion.tritter.random;

/**
 * The SplitMix64 generator (Steele, Lea and Flood, 2014): the state advances by the golden gamma
 * {@code 0x9E3779B97F4A7C15} and each output is the state passed through the Stafford "mix13"
 * finalizer. Its output is fully specified by this definition, so seeded vectors and keys are
 * identical on every JVM and platform; it equals {@code new java.util.SplittableRandom(seed)
 * .nextLong()} sequences, which tests check.
 *
 * <p>Not thread-safe; one instance per thread.
 */
public final class SplitMix64 {
  /** The golden-ratio increment. */
  public static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

  private long state;

  /**
   * Creates a generator.
   *
   * @param seed the initial state
   */
  public SplitMix64(long seed) {
    this.state = seed;
  }

  /** The next 64 random bits. */
  public long nextLong() {
    state += GOLDEN_GAMMA;
    return mix64(state);
  }

  /**
   * A uniform value in {@code [0, bound)} by the multiply-high method on the upper 32 bits (bias
   * below 2^-32 · bound, fully specified).
   *
   * @param bound the exclusive upper bound, 1 to 2^31-1
   * @return the value
   */
  public int nextInt(int bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("bound must be positive: " + bound);
    }
    return (int) (((nextLong() >>> 32) * bound) >>> 32);
  }

  /**
   * The Stafford variant 13 finalizer used by SplitMix64; a bijection on 64-bit values.
   *
   * @param z the input
   * @return the mixed value
   */
  public static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
