package dev.aphelion.core.fuzz;

import dev.aphelion.core.error.AphelionException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.LongUnaryOperator;

/**
 * A small mutation fuzzer for the library's readers, shared by the modules' fuzz tests.
 *
 * <p>Each case mutates one of the seed inputs (bit flips, interesting bytes and integers, inserted,
 * deleted, duplicated and truncated ranges, splices of two seeds) and feeds it to the target. A case
 * passes if the target returns (and its own checks of the result pass) or throws an {@link
 * AphelionException}; any other throwable, or allocating more than the bound for the input's size,
 * fails the run with the seed, the case number and the input, so it can be replayed.
 *
 * <p>Bounded for CI: {@value #DEFAULT_CASES} cases or {@value #DEFAULT_SECONDS} s per target,
 * whichever ends first, from a fixed seed. Run longer with {@code -Daphelion.fuzz.cases=N},
 * {@code -Daphelion.fuzz.seconds=S} and another {@code -Daphelion.fuzz.seed=X}.
 */
public final class Fuzz {
  /** Cases per target unless {@code aphelion.fuzz.cases} says otherwise. */
  public static final int DEFAULT_CASES = 20_000;
  /** Seconds per target unless {@code aphelion.fuzz.seconds} says otherwise. */
  public static final int DEFAULT_SECONDS = 8;

  private static final long[] INTERESTING = {
    0, 1, -1, 2, 7, 8, 127, 128, 255, 256, 0x7FFF, 0xFFFF, 0x7FFFFFFFL, 0x80000000L, 0xFFFFFFFFL,
    Long.MAX_VALUE, Long.MIN_VALUE, 1L << 40, 100L * 1024 * 1024
  };

  private Fuzz() {}

  /** The target under test: decode the input and check what came out. */
  @FunctionalInterface
  public interface Target {
    /**
     * Runs one case.
     *
     * @param input the mutated bytes
     * @throws Exception the target's failure; only {@link AphelionException} passes
     */
    void run(byte[] input) throws Exception;
  }

  /** What a run did. */
  public record Stats(long cases, long accepted, long rejected) {}

  /** The seed of this run. */
  public static long seed() {
    return Long.decode(System.getProperty("aphelion.fuzz.seed", "0x16F022"));
  }

  /**
   * Fuzzes a target.
   *
   * @param name the target's name, for messages
   * @param seeds valid inputs to mutate (also run unmutated)
   * @param allocationBound the most bytes one case may allocate, given the input length
   * @param target the target
   * @return counts
   */
  public static Stats run(String name, List<byte[]> seeds, LongUnaryOperator allocationBound, Target target) {
    long cases = Long.getLong("aphelion.fuzz.cases", DEFAULT_CASES);
    long deadline = System.nanoTime() + (long) (Double.parseDouble(System.getProperty("aphelion.fuzz.seconds", "" + DEFAULT_SECONDS)) * 1e9);
    SplittableRandom rnd = new SplittableRandom(seed() ^ name.hashCode());
    long accepted = 0;
    long rejected = 0;
    long i = 0;
    for (; i < cases && System.nanoTime() < deadline; i++) {
      byte[] input = i < seeds.size() ? seeds.get((int) i).clone() : mutate(seeds, rnd);
      long before = allocated();
      Throwable failure = null;
      try {
        target.run(input);
        accepted++;
      } catch (AphelionException e) {
        rejected++;
      } catch (Throwable t) {
        failure = t;
      }
      long used = allocated() - before;
      if (failure != null) {
        throw new AssertionError(report(name, i, input, failure.toString()), failure);
      }
      long bound = allocationBound.applyAsLong(input.length);
      if (before >= 0 && used > bound) {
        throw new AssertionError(report(name, i, input, "allocated " + used + " bytes, bound " + bound));
      }
    }
    System.out.printf("fuzz %s: %d cases (seed 0x%x): %d accepted, %d rejected%n", name, i, seed(), accepted, rejected);
    return new Stats(i, accepted, rejected);
  }

  private static String report(String name, long i, byte[] input, String what) {
    String hex = HexFormat.of().formatHex(input, 0, Math.min(input.length, 512));
    return "fuzz " + name + " case " + i + " (replay with -Daphelion.fuzz.seed=0x" + Long.toHexString(seed()) + "): " + what
        + "\n  input (" + input.length + " bytes" + (input.length > 512 ? ", first 512" : "") + "): " + hex
        + "\n  as text: " + new String(input, 0, Math.min(input.length, 512), StandardCharsets.ISO_8859_1);
  }

  // Through reflection: the test module does not read java.management, and need not.
  private static final Object THREADS;
  private static final java.lang.reflect.Method ALLOCATED;

  static {
    Object bean = null;
    java.lang.reflect.Method m = null;
    try {
      bean = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
      Class<?> ext = Class.forName("com.sun.management.ThreadMXBean");
      if (ext.isInstance(bean)) {
        m = ext.getMethod("getCurrentThreadAllocatedBytes");
      }
    } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
      // no allocation accounting on this JVM
    }
    THREADS = bean;
    ALLOCATED = m;
  }

  /** Bytes allocated so far by this thread, or -1 where the JVM cannot tell. */
  static long allocated() {
    if (ALLOCATED == null) {
      return -1;
    }
    try {
      return (long) ALLOCATED.invoke(THREADS);
    } catch (ReflectiveOperationException e) {
      return -1;
    }
  }

  /** One random mutation (or a few stacked) of a random seed. */
  public static byte[] mutate(List<byte[]> seeds, SplittableRandom r) {
    byte[] b = seeds.get(r.nextInt(seeds.size())).clone();
    int rounds = 1 + (r.nextInt(4) == 0 ? r.nextInt(8) : 0);
    for (int k = 0; k < rounds; k++) {
      b = mutateOnce(b, seeds, r);
    }
    return b;
  }

  private static byte[] mutateOnce(byte[] b, List<byte[]> seeds, SplittableRandom r) {
    if (b.length == 0) {
      return new byte[] {(byte) r.nextInt(256)};
    }
    int at = r.nextInt(b.length);
    switch (r.nextInt(9)) {
      case 0 -> b[at] ^= (byte) (1 << r.nextInt(8));
      case 1 -> b[at] = (byte) new int[] {0, 0xFF, 0x7F, 0x80, 0x01, '"', '\\', '{', '[', ',', '-', 'e'}[r.nextInt(12)];
      case 2 -> {
        // an interesting little-endian integer of 2, 4 or 8 bytes
        long v = INTERESTING[r.nextInt(INTERESTING.length)];
        int width = new int[] {2, 4, 8}[r.nextInt(3)];
        for (int j = 0; j < width && at + j < b.length; j++) {
          b[at + j] = (byte) (v >>> (8 * j));
        }
      }
      case 3 -> b = java.util.Arrays.copyOf(b, r.nextInt(b.length)); // truncate
      case 4 -> { // delete a range
        int len = 1 + r.nextInt(Math.min(64, b.length - at));
        byte[] out = new byte[b.length - len];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(b, at + len, out, at, b.length - at - len);
        b = out;
      }
      case 5 -> { // duplicate a range
        int len = 1 + r.nextInt(Math.min(64, b.length - at));
        byte[] out = new byte[b.length + len];
        System.arraycopy(b, 0, out, 0, at + len);
        System.arraycopy(b, at, out, at + len, b.length - at);
        b = out;
      }
      case 6 -> { // insert random bytes
        int len = 1 + r.nextInt(16);
        byte[] out = new byte[b.length + len];
        System.arraycopy(b, 0, out, 0, at);
        for (int j = 0; j < len; j++) {
          out[at + j] = (byte) r.nextInt(256);
        }
        System.arraycopy(b, at, out, at + len, b.length - at);
        b = out;
      }
      case 7 -> { // splice with another seed
        byte[] o = seeds.get(r.nextInt(seeds.size()));
        int from = r.nextInt(o.length + 1);
        byte[] out = java.util.Arrays.copyOf(b, at + (o.length - from));
        System.arraycopy(o, from, out, at, o.length - from);
        b = out;
      }
      default -> { // overwrite a run with one byte
        int len = 1 + r.nextInt(Math.min(32, b.length - at));
        java.util.Arrays.fill(b, at, at + len, (byte) r.nextInt(256));
      }
    }
    return b;
  }
}
