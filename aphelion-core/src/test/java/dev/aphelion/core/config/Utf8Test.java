package dev.aphelion.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Utf8Test {
  static String randomString(SplittableRandom r) {
    StringBuilder sb = new StringBuilder();
    int n = r.nextInt(6);
    for (int i = 0; i < n; i++) {
      switch (r.nextInt(5)) {
        case 0 -> sb.append((char) r.nextInt(0x80));
        case 1 -> sb.append((char) (0x80 + r.nextInt(0x780)));
        case 2 -> sb.append((char) (0x800 + r.nextInt(0xD800 - 0x800)));
        case 3 -> sb.append((char) (0xE000 + r.nextInt(0x2000)));
        default -> sb.appendCodePoint(0x10000 + r.nextInt(0x100000));
      }
    }
    return sb.toString();
  }

  @Test
  void orderEqualsUtf8ByteOrderAndLengthIsExact() {
    SplittableRandom r = new SplittableRandom(5);
    for (int i = 0; i < 20_000; i++) {
      String a = randomString(r);
      String b = r.nextInt(4) == 0 ? a + randomString(r) : randomString(r);
      byte[] ua = a.getBytes(StandardCharsets.UTF_8);
      byte[] ub = b.getBytes(StandardCharsets.UTF_8);
      assertEquals(Integer.signum(Arrays.compareUnsigned(ua, ub)), Integer.signum(Utf8.compare(a, b)), a + " vs " + b);
      assertEquals(ua.length, Utf8.encodedLength(a));
      assertTrue(Utf8.isWellFormed(a));
    }
  }

  @Test
  void wellFormedness() {
    assertTrue(Utf8.isWellFormed(""));
    assertTrue(Utf8.isWellFormed("\ud83d\ude00"));
    assertFalse(Utf8.isWellFormed("\ud83d"));
    assertFalse(Utf8.isWellFormed("\ude00\ud83d"));
    assertFalse(Utf8.isWellFormed("a\ud83dx"));
  }
}
