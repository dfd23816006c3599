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
 *       1.5e-7}, {@code 1e16}, {@code 1.234e16}, {@code 5e-324};
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
    if (!Double.isFinite(value)) {
      throw new IllegalArgumentException("cannot format non-finite double " + value);
    }
    if (value == 0.0) {
      return (Double.doubleToRawLongBits(value) < 0) ? "-0.0" : "0.0";
    }
    boolean negative = value < 0;
    double abs = Math.abs(value);
    // Shortest digits: Java's algorithm (JDK 19+) gives the closest decimal of max(shortest, 2)
    // digits. decimal = digits * 10^exp10 with no trailing zeros in digits.
    BigDecimal java = new BigDecimal(Double.toString(abs)).stripTrailingZeros();
    String digits = java.unscaledValue().toString();
    int exp10 = -java.scale();
    if (digits.length() == 2) {
      // A one-digit decimal might read back too; ryu then prints that one.
      int d0 = digits.charAt(0) - '0';
      int e = exp10 + 1;
      String best = null;
      BigDecimal exact = new BigDecimal(abs);
      BigDecimal bestDistance = null;
      for (int cand = d0; cand <= d0 + 1; cand++) {
        BigDecimal candidate = new BigDecimal(BigInteger.valueOf(cand), -e);
        if (Double.parseDouble(candidate.toString()) != abs) {
          continue;
        }
        BigDecimal distance = candidate.subtract(exact).abs();
        int cmp = bestDistance == null ? -1 : distance.compareTo(bestDistance);
        if (cmp < 0 || (cmp == 0 && cand % 2 == 0)) {
          bestDistance = distance;
          best = Integer.toString(cand);
        }
      }
      if (best != null) {
        BigDecimal normalized = new BigDecimal(new BigInteger(best), -e).stripTrailingZeros();
        digits = normalized.unscaledValue().toString();
        exp10 = -normalized.scale();
      }
    }
    StringBuilder sb = new StringBuilder(26);
    if (negative) {
      sb.append('-');
    }
    layout(sb, digits, exp10);
    return sb.toString();
  }

  /** Lays out {@code digits * 10^exp10} following ryu's {@code format64}. */
  private static void layout(StringBuilder sb, String digits, int exp10) {
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
    } else if (length == 1) {
      sb.append(digits).append('e').append(kk - 1);
    } else {
      sb.append(digits.charAt(0)).append('.').append(digits, 1, length);
      sb.append('e').append(kk - 1);
    }
  }
}
