package dev.aphelion.spark;

import dev.aphelion.core.error.SerializationException;

/**
 * Binary messages as text for {@code BarrierTaskContext.allGather(String)}, 7 bits per character.
 *
 * <p>Spark sends the string inside a Java-serialized RPC message, whose strings are modified
 * UTF-8: characters 1 to 127 take one byte, {@code U+0000} and everything above take two or three.
 * So the densest text is 7 bits per character: the bytes as one bit string, cut into 7-bit groups
 * {@code v}, each sent as the character {@code v ^ 0x55} (the XOR moves the two-byte character
 * away from the all-zero group that padding and small integers make common). {@code n} bytes
 * become {@code ceil(8n / 7)} characters, 8/7 of the binary size plus one byte per group equal to
 * 0x55; Base64 is 4/3.
 */
final class SevenBitText {
  private static final int MASK = 0x55;

  private SevenBitText() {}

  static String encode(byte[] bytes) {
    int chars = (int) ((8L * bytes.length + 6) / 7);
    char[] out = new char[chars];
    long acc = 0;
    int bits = 0;
    int o = 0;
    for (byte b : bytes) {
      acc = (acc << 8) | (b & 0xff);
      bits += 8;
      while (bits >= 7) {
        bits -= 7;
        out[o++] = (char) (((acc >>> bits) & 0x7f) ^ MASK);
      }
    }
    if (bits > 0) {
      out[o++] = (char) (((acc << (7 - bits)) & 0x7f) ^ MASK);
    }
    return new String(out, 0, o);
  }

  static byte[] decode(String text) {
    int n = (int) (7L * text.length() / 8);
    byte[] out = new byte[n];
    long acc = 0;
    int bits = 0;
    int o = 0;
    for (int i = 0; i < text.length(); i++) {
      int c = text.charAt(i);
      if (c > 0x7f) {
        throw new SerializationException("character " + i + " of a 7-bit message is U+" + Integer.toHexString(c));
      }
      acc = (acc << 7) | (c ^ MASK);
      bits += 7;
      if (bits >= 8 && o < n) {
        bits -= 8;
        out[o++] = (byte) (acc >>> bits);
      }
    }
    return out;
  }

  /** The bytes of {@code text} in modified UTF-8, as Java serialization writes it. */
  static long wireBytes(String text) {
    long n = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      n += c >= 1 && c <= 0x7f ? 1 : c <= 0x7ff ? 2 : 3;
    }
    return n;
  }
}
