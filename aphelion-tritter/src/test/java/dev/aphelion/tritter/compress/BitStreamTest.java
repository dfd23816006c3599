package dev.aphelion.tritter.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BitStreamTest {

  @Test
  void unaryCodeEndingOnTheLastBitOfAFullBuffer() {
    // The reader refills 64 bits at a time; a gap code of 63 zeros at a byte boundary puts its
    // terminating one-bit at bit 63 of the buffer. Shifting by 64 is a no-op in Java, so the
    // reader must clear the buffer itself or the stale bit corrupts the codes that follow.
    byte[] buf = new byte[64];
    BitStream.Writer w = new BitStream.Writer(buf, 0);
    w.writeUnary(63);
    w.writeUnary(62);
    w.writeUnary(5);
    w.write(0b101, 3);
    w.writeUnary(0);
    int end = w.finish();
    BitStream.Reader r = new BitStream.Reader(buf, 0, end);
    assertEquals(63, r.readUnary(1000));
    assertEquals(62, r.readUnary(1000));
    assertEquals(5, r.readUnary(1000));
    assertEquals(0b101, r.read(3));
    assertEquals(0, r.readUnary(1000));
  }

  @Test
  void randomCodesRoundTrip() {
    SplittableRandom rnd = new SplittableRandom(7);
    for (int trial = 0; trial < 200; trial++) {
      int n = 1 + rnd.nextInt(300);
      long[] q = new long[n];
      int[] bits = new int[n];
      long[] v = new long[n];
      byte[] buf = new byte[n * 40];
      BitStream.Writer w = new BitStream.Writer(buf, 0);
      for (int i = 0; i < n; i++) {
        q[i] = rnd.nextInt(4) == 0 ? rnd.nextInt(200) : rnd.nextInt(70);
        bits[i] = rnd.nextInt(20);
        v[i] = bits[i] == 0 ? 0 : rnd.nextLong() & ((1L << bits[i]) - 1);
        w.writeUnary(q[i]);
        w.write(v[i], bits[i]);
      }
      int end = w.finish();
      BitStream.Reader r = new BitStream.Reader(buf, 0, end);
      for (int i = 0; i < n; i++) {
        assertEquals(q[i], r.readUnary(10_000), "trial " + trial + " code " + i);
        assertEquals(v[i], r.read(bits[i]), "trial " + trial + " value " + i);
      }
    }
  }
}
