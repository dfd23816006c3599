package dev.aphelion.core.config;

import java.util.Comparator;

/**
 * String helpers shared by config, graph and hashing: the canonical key order and UTF-8
 * well-formedness.
 *
 * <p>Every sorted map in Aphelion (config params, nested maps, node and graph attributes) and
 * every id-ordered list uses {@link #ORDER}: Unicode code point order, which equals the byte-wise
 * order of the UTF-8 encodings. That is the order of Rust's {@code BTreeMap<String, _>} (so the
 * Rust-compatible JSON sorts keys the same way) and it does not depend on Java's UTF-16 internals
 * ({@link String#compareTo} differs from it for characters above U+FFFF).
 */
public final class Utf8 {
  /** Code point order, identical to the byte-wise order of the strings' UTF-8 encodings. */
  public static final Comparator<String> ORDER = Utf8::compare;

  private Utf8() {}

  /**
   * Compares two strings by Unicode code point (equivalently, by their UTF-8 bytes).
   *
   * @param a first string
   * @param b second string
   * @return negative, zero or positive as {@code a} sorts before, equal to or after {@code b}
   */
  public static int compare(String a, String b) {
    int n = Math.min(a.length(), b.length());
    for (int i = 0; i < n; i++) {
      char x = a.charAt(i);
      char y = b.charAt(i);
      if (x != y) {
        // UTF-16 order differs from code point order only between surrogates (D800-DFFF) and
        // E000-FFFF: move surrogates above E000-FFFF (the classic ICU fix-up).
        return fixup(x) - fixup(y);
      }
    }
    return a.length() - b.length();
  }

  private static int fixup(char c) {
    if (c < 0xD800) {
      return c;
    }
    return c >= 0xE000 ? c - 0x800 : c + 0x2000;
  }

  /**
   * Whether {@code s} is well-formed UTF-16 (no unpaired surrogate), that is, whether it has an
   * exact UTF-8 encoding. Unpaired surrogates would be replaced by {@code ?} when encoded, which
   * would let two different strings hash alike.
   *
   * @param s the string to check
   * @return {@code true} if every surrogate is correctly paired
   */
  public static boolean isWellFormed(String s) {
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 >= n || !Character.isLowSurrogate(s.charAt(i + 1))) {
          return false;
        }
        i++;
      } else if (Character.isLowSurrogate(c)) {
        return false;
      }
    }
    return true;
  }

  /**
   * The number of bytes of the UTF-8 encoding of a well-formed string, computed without encoding.
   *
   * @param s a well-formed string (see {@link #isWellFormed})
   * @return its UTF-8 length in bytes
   */
  public static int encodedLength(String s) {
    int n = s.length();
    long bytes = n;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 0x80) {
        if (c < 0x800) {
          bytes += 1;
        } else if (Character.isHighSurrogate(c)) {
          bytes += 2; // the pair is 4 bytes for 2 chars
          i++;
        } else {
          bytes += 2;
        }
      }
    }
    if (bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("string too long to encode: " + bytes + " bytes");
    }
    return (int) bytes;
  }

  /**
   * Describes a string for error messages: quoted, shortened to 80 characters.
   *
   * @param s the string
   * @return a printable description
   */
  static String quote(String s) {
    String shown = s.length() > 80 ? s.substring(0, 77) + "..." : s;
    return "'" + shown + "'";
  }
}
