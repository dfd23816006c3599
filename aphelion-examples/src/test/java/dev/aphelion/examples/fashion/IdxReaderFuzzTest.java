package dev.aphelion.examples.fashion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.AphelionException;
import java.io.ByteArrayOutputStream;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

/**
 * IDX files, plain and gzip-compressed, under random mutation: each is read (with data exactly as
 * long as its dimensions say) or rejected with the library's exception. Same properties as the
 * library's fuzz suite ({@code aphelion.fuzz.seed}, {@code .cases}, {@code .seconds}); this
 * module does not use aphelion-core's test-jar, so the mutator is a small local one.
 */
class IdxReaderFuzzTest {

  static byte[] gzip(byte[] b) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(out)) {
      z.write(b);
    }
    return out.toByteArray();
  }

  @Test
  void idxFilesAreReadOrRejectedCleanly() throws Exception {
    byte[] images = IdxTestFiles.images(3, 4, 5, new byte[60]);
    byte[] labels = IdxTestFiles.labels((byte) 1, (byte) 9, (byte) 0);
    List<byte[]> seeds = List.of(images, labels, gzip(images), gzip(labels));
    long seed = Long.decode(System.getProperty("aphelion.fuzz.seed", "0x16F022"));
    long cases = Long.getLong("aphelion.fuzz.cases", 20_000);
    long deadline = System.nanoTime() + (long) (Double.parseDouble(System.getProperty("aphelion.fuzz.seconds", "8")) * 1e9);
    SplittableRandom r = new SplittableRandom(seed);
    int accepted = 0;
    long i = 0;
    for (; i < cases && System.nanoTime() < deadline; i++) {
      byte[] b = seeds.get(r.nextInt(seeds.size())).clone();
      for (int k = 1 + r.nextInt(3); k > 0 && b.length > 0; k--) {
        int at = r.nextInt(b.length);
        switch (r.nextInt(4)) {
          case 0 -> b[at] ^= (byte) (1 << r.nextInt(8));
          case 1 -> b[at] = (byte) new int[] {0, 0xFF, 0x7F, 0x80, 0x08, 0x1F, 0x8B}[r.nextInt(7)];
          case 2 -> b = java.util.Arrays.copyOf(b, at);
          default -> b = java.util.Arrays.copyOf(b, b.length + r.nextInt(16));
        }
      }
      try {
        IdxArray a = IdxReader.read(b, "fuzz");
        long n = 1;
        for (int d : a.dims()) {
          assertTrue(d > 0);
          n *= d;
        }
        assertEquals(n, a.data().length);
        accepted++;
      } catch (AphelionException expected) {
        // rejected with the library's exception
      } catch (Throwable t) {
        throw new AssertionError("fuzz idx case " + i + " (seed 0x" + Long.toHexString(seed) + "): " + t + "\n  input: "
            + HexFormat.of().formatHex(b, 0, Math.min(b.length, 512)), t);
      }
    }
    System.out.printf("fuzz idx: %d cases (seed 0x%x): %d accepted%n", i, seed, accepted);
    assertTrue(accepted > 0);
  }
}
