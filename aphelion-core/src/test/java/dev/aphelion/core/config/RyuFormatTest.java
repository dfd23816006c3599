package dev.aphelion.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * RyuFormat against known serde_json/ryu outputs, and an independent check that its digits are
 * the shortest, closest ones over a wide random sample of bit patterns.
 */
class RyuFormatTest {
  static void check(String expected, double value) {
    assertEquals(expected, RyuFormat.format(value), "bits " + Long.toHexString(Double.doubleToRawLongBits(value)));
  }

  @Test
  void layoutMatchesRyu() {
    check("0.0", 0.0);
    check("-0.0", -0.0);
    check("1.0", 1.0);
    check("-1.0", -1.0);
    check("0.1", 0.1);
    check("0.3", 0.3);
    check("2.71828", 2.71828);
    check("1.2345678", 1.2345678);
    check("4.294967296", 4.294967296);
    check("123456.789", 123456.789);
    check("1234000000000000.0", 1.234e15);
    check("1000000000000000.0", 1e15);
    check("9060801153433600.0", 9.0608011534336e15);
    check("1e16", 1e16);
    check("1.234e16", 1.234e16);
    check("-2.109808898695963e16", -2.109808898695963e16);
    check("4.708356024711512e18", 4.708356024711512e18);
    check("1e23", 1e23);
    check("1.1e128", 1.1e128);
    check("1.7976931348623157e308", Double.MAX_VALUE);
    check("0.0001", 1e-4);
    check("0.00001", 1e-5);
    check("0.000012", 1.2e-5);
    check("1e-6", 1e-6);
    check("1.5e-7", 1.5e-7);
    check("2.9802322387695312e-8", 2.9802322387695312e-8);
    check("1.1e-64", 1.1e-64);
    check("2.2250738585072014e-308", Double.MIN_NORMAL);
    check("4.940656e-318", 4.940656e-318);
    check("1.18575755e-316", 1.18575755e-316);
    check("2.989102097996e-312", 2.989102097996e-312);
    check("5e-324", Double.MIN_VALUE);
    check("1e-323", 2 * Double.MIN_VALUE);
    check("1.5e-323", 3 * Double.MIN_VALUE);
    check("5.764607523034235e39", Double.longBitsToDouble(0x4830F0CF064DD592L));
    check("3.196104012172126e-27", Double.longBitsToDouble((934L << 52) | 0x000FA7161A4D6E0CL));
    check("256.0", 256.0);
    check("0.5", 0.5);
  }

  @Test
  void rejectsNonFinite() {
    assertThrows(IllegalArgumentException.class, () -> RyuFormat.format(Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> RyuFormat.format(Double.POSITIVE_INFINITY));
  }

  @Test
  void randomBitPatternsAreShortestClosestAndRoundTrip() {
    SplittableRandom random = new SplittableRandom(2026);
    for (int i = 0; i < 8_000; i++) {
      double x = Double.longBitsToDouble(random.nextLong());
      if (!Double.isFinite(x)) {
        continue;
      }
      verify(x);
    }
    for (int i = 0; i < 2_000; i++) {
      verify(random.nextDouble()); // [0, 1)
      verify(random.nextInt(1_000_000) / 1000.0); // typical decimal fractions
      verify(Double.longBitsToDouble(random.nextLong(1L, 1L << 52))); // subnormals
    }
    for (int e = -324; e <= 308; e++) {
      verify(Double.parseDouble("1e" + e));
      double nine = Double.parseDouble("9e" + e);
      if (Double.isFinite(nine)) {
        verify(nine);
      }
    }
  }

  /** Independent checks of one output: format, round trip, minimal length, nearest digits. */
  static void verify(double x) {
    String s = RyuFormat.format(x);
    assertEquals(Double.doubleToRawLongBits(x), Double.doubleToRawLongBits(Double.parseDouble(s)), s);
    assertTrue(s.contains(".") || s.contains("e"), s);
    assertFalse(s.contains("E") || s.contains("+"), s);
    if (x == 0) {
      return;
    }
    BigDecimal d = new BigDecimal(s).abs().stripTrailingZeros();
    BigInteger digits = d.unscaledValue();
    int scale = d.scale();
    int length = digits.toString().length();
    double abs = Math.abs(x);
    BigDecimal exact = new BigDecimal(abs);
    // No decimal with one digit fewer reads back as x.
    if (length > 1) {
      BigInteger shorter = digits.divide(BigInteger.TEN);
      for (BigInteger cand : new BigInteger[] {shorter, shorter.add(BigInteger.ONE)}) {
        BigDecimal c = new BigDecimal(cand, scale - 1);
        assertFalse(Double.parseDouble(c.toString()) == abs, s + " is not shortest: " + c);
      }
    }
    // The neighbours with the same length are not closer while also reading back.
    BigDecimal dist = d.subtract(exact).abs();
    for (BigInteger cand : new BigInteger[] {digits.subtract(BigInteger.ONE), digits.add(BigInteger.ONE)}) {
      BigDecimal c = new BigDecimal(cand, scale);
      if (Double.parseDouble(c.toString()) == abs) {
        assertTrue(c.subtract(exact).abs().compareTo(dist) >= 0, s + " is not closest: " + c);
      }
    }
    // Layout thresholds of ryu's format64.
    int kk = length - scale; // 10^(kk-1) <= |x| < 10^kk
    boolean plain = kk > -5 && kk <= 16;
    assertEquals(plain, !s.contains("e"), s);
  }
}
