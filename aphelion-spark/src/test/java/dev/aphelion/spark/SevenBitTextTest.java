package dev.aphelion.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.SerializationException;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The 7-bit text form of exchange messages: exact round trips, its size, and bad characters. */
class SevenBitTextTest {

  @Test
  void everyLengthAndByteValueRoundTripsInCeil8nOver7Characters() {
    SplittableRandom rnd = new SplittableRandom(3);
    for (int n = 0; n <= 300; n++) {
      byte[] b = new byte[n];
      for (int i = 0; i < n; i++) {
        b[i] = (byte) (n % 3 == 0 ? rnd.nextInt(256) : n % 3 == 1 ? 0 : -1); // random, all zeros, all ones
      }
      String t = SevenBitText.encode(b);
      assertEquals((8 * n + 6) / 7, t.length(), "characters for " + n + " bytes");
      assertTrue(t.chars().allMatch(c -> c <= 0x7f), "7-bit characters only");
      assertArrayEquals(b, SevenBitText.decode(t), "round trip of " + n + " bytes");
    }
    byte[] all = new byte[256];
    for (int i = 0; i < 256; i++) {
      all[i] = (byte) i;
    }
    assertArrayEquals(all, SevenBitText.decode(SevenBitText.encode(all)));
  }

  @Test
  void wireBytesCountModifiedUtf8() {
    assertEquals(0, SevenBitText.wireBytes(""));
    assertEquals(3, SevenBitText.wireBytes("abc"));
    assertEquals(2, SevenBitText.wireBytes("\u0000"));
    assertEquals(2, SevenBitText.wireBytes("\u00e9"));
    assertEquals(3, SevenBitText.wireBytes("\u20ac"));
    // zero bytes (padding, small integers) encode as 0x55, not as the two-byte U+0000
    assertEquals(SevenBitText.encode(new byte[70]).length(), SevenBitText.wireBytes(SevenBitText.encode(new byte[70])));
  }

  @Test
  void aCharacterAbove0x7fIsRefused() {
    SerializationException e = assertThrows(SerializationException.class, () -> SevenBitText.decode("ab\u00e9d"));
    assertTrue(e.getMessage().contains("character 2"), e.getMessage());
  }
}
