package dev.aphelion.core.config;

import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * Formats doubles exactly as Rust's {@code serde_json} does (it uses the {@code ryu} crate's
 * {@code Buffer::format_finite}): the shortest decimal that reads back as the same double, the
 * closest one when several are that short, laid out as:
 *
 * <ul>
 *   <li>integral, decimal exponent within 16 digits: {@code 1.0}, {@code 1234000000000000.0};
 *   <li>{@code 1e-5 <= |x| < 1e16} with a fraction: plain, {@code 0.1}, {@code 0.00001}, {@code
 *       12.34};
 *   <li>otherwise scientific, exponent without padding or {@code +}: {@code 1e-6}, {@code
 *       1.5e-7}, {@code 1e16}, {@code 1.234e16}, {@code 5e-324} (serde_json 1.0.147 and later
 *       write {@code 1e+16}: see {@link #format(double, SerdeJsonFloats)});
 *   <li>zero as {@code 0.0} and {@code -0.0}.
 * </ul>
 *
 * <p>Digits come from {@link Double#toString(double)}, which on JDK 19+ is the shortest closest
 * decimal with at least two digits; when a one-digit decimal also reads back (for example {@code
 * 5e-324}, which Java prints as {@code 4.9E-324}), the closest such digit is used instead, which
 * is what ryu does. The output always holds a {@code .} or an {@code e}, so it never reads back as
 * an integer.
 */
public final class RyuFormat {
  private RyuFormat() {}

  /**
   * Formats a finite double the way serde_json/ryu does.
   *
   * @param value a finite double
   * @return its shortest round-trip text
   * @throws IllegalArgumentException if {@code value} is NaN or infinite (serde_json would write
   *     {@code null}; Aphelion rejects such values earlier)
   */
  public static String format(double value) {
    return format(value, SerdeJsonFloats.RYU);
  }

  /**
   * Formats a finite double the way a given serde_json generation does.
   *
   * @param value a finite double
   * @param style {@link SerdeJsonFloats#RYU} ({@code 1e16}) or {@link SerdeJsonFloats#ZMIJ}
   *     ({@code 1e+16})
   * @return its shortest round-trip text
   * @throws IllegalArgumentException if {@code value} is NaN or infinite
   */
  public static String format(double value, SerdeJsonFloats style) {
    if (!Double.isFinite(value)) {
      throw new IllegalArgumentException("cannot format non-finite double " + value);
    }
    if (value == 0.0) {
      return (Double.doubleToRawLongBits(value) < 0) ? "-0.0" : "0.0";
    }
    boolean negative = value < 0;
    double abs = Math.abs(value);
    // Shortest digits: Java's algorithm (JDK 19+) gives the closest decimal of max(shortest, 2)
    // digits. value = digits * 10^exp10, digits without leading or trailing zeros.
    String java = Double.toString(abs);
    int ePos = java.indexOf('E');
    String mantissa = ePos < 0 ? java : java.substring(0, ePos);
    int exp10 = ePos < 0 ? 0 : Integer.parseInt(java, ePos + 1, java.length(), 10);
    int dot = mantissa.indexOf('.');
    String all = mantissa.substring(0, dot) + mantissa.substring(dot + 1);
    exp10 -= mantissa.length() - dot - 1;
    int start = 0;
    while (start < all.length() - 1 && all.charAt(start) == '0') {
      start++;
    }
    int end = all.length();
    while (end > start + 1 && all.charAt(end - 1) == '0') {
      end--;
      exp10++;
    }
    String digits = all.substring(start, end);
    if (digits.length() == 2) {
      // A one-digit decimal might read back too; ryu then prints that one (the closest).
      int d0 = digits.charAt(0) - '0';
      int e = exp10 + 1;
      int best = -1;
      BigDecimal bestDistance = null;
      for (int cand = d0; cand <= d0 + 1; cand++) {
        if (Double.parseDouble(cand + "e" + e) != abs) {
          continue;
        }
        BigDecimal distance =
            new BigDecimal(BigInteger.valueOf(cand), -e).subtract(new BigDecimal(abs)).abs();
        int cmp = bestDistance == null ? -1 : distance.compareTo(bestDistance);
        if (cmp < 0 || (cmp == 0 && cand % 2 == 0)) {
          bestDistance = distance;
          best = cand;
        }
      }
      if (best == 10) {
        digits = "1";
        exp10 = e + 1;
      } else if (best >= 0) {
        digits = Integer.toString(best);
        exp10 = e;
      }
    }
    StringBuilder sb = new StringBuilder(26);
    if (negative) {
      sb.append('-');
    }
    layout(sb, digits, exp10, style == SerdeJsonFloats.ZMIJ);
    return sb.toString();
  }

  /** Lays out {@code digits * 10^exp10} following ryu's {@code format64}. */
  private static void layout(StringBuilder sb, String digits, int exp10, boolean plusSign) {
    int length = digits.length();
    int kk = length + exp10; // 10^(kk-1) <= v < 10^kk
    if (exp10 >= 0 && kk <= 16) {
      sb.append(digits);
      sb.repeat('0', exp10);
      sb.append(".0");
    } else if (kk > 0 && kk <= 16) {
      sb.append(digits, 0, kk).append('.').append(digits, kk, length);
    } else if (kk > -5 && kk <= 0) {
      sb.append("0.");
      sb.repeat('0', -kk);
      sb.append(digits);
    } else {
      sb.append(digits.charAt(0));
      if (length > 1) {
        sb.append('.').append(digits, 1, length);
      }
      sb.append(plusSign && kk - 1 > 0 ? "e+" : "e").append(kk - 1);
    }
  }
}
