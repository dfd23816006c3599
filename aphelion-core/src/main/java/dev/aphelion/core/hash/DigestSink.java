package dev.aphelion.core.hash;

import dev.aphelion.core.config.Utf8;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Streams bytes into a SHA-256 {@link MessageDigest} through a small buffer, so that encoders
 * never build the whole message in memory. Also usable as a plain {@link OutputStream}.
 */
final class DigestSink extends OutputStream {
  private final MessageDigest digest;
  private final OutputStream copy; // optional: receives every byte too (tests, inspection)
  private final byte[] buf = new byte[16384];
  private int pos;

  DigestSink(OutputStream copy) {
    try {
      this.digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      // Every Java platform must provide SHA-256 (java.security.MessageDigest contract).
      throw new IllegalStateException("SHA-256 is not available", e);
    }
    this.copy = copy;
  }

  @Override
  public void write(int b) {
    if (pos == buf.length) {
      drain();
    }
    buf[pos++] = (byte) b;
  }

  @Override
  public void write(byte[] b, int off, int len) {
    if (len > buf.length - pos) {
      drain();
      if (len > buf.length) {
        pass(b, off, len);
        return;
      }
    }
    System.arraycopy(b, off, buf, pos, len);
    pos += len;
  }

  private void pass(byte[] b, int off, int len) {
    digest.update(b, off, len);
    if (copy != null) {
      try {
        copy.write(b, off, len);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }

  private void drain() {
    pass(buf, 0, pos);
    pos = 0;
  }

  private void ensure(int n) {
    if (buf.length - pos < n) {
      drain();
    }
  }

  void u8(int v) {
    write(v);
  }

  void u32be(int v) {
    ensure(4);
    buf[pos++] = (byte) (v >>> 24);
    buf[pos++] = (byte) (v >>> 16);
    buf[pos++] = (byte) (v >>> 8);
    buf[pos++] = (byte) v;
  }

  void u64be(long v) {
    ensure(8);
    for (int shift = 56; shift >= 0; shift -= 8) {
      buf[pos++] = (byte) (v >>> shift);
    }
  }

  void u64le(long v) {
    ensure(8);
    for (int shift = 0; shift < 64; shift += 8) {
      buf[pos++] = (byte) (v >>> shift);
    }
  }

  /** Writes u32 big-endian UTF-8 length, then the UTF-8 bytes. */
  void str(String s) {
    u32be(Utf8.encodedLength(s));
    utf8(s);
  }

  /** Writes the UTF-8 bytes of a well-formed string, without a length. */
  void utf8(String s) {
    int n = s.length();
    for (int i = 0; i < n; i++) {
      if (buf.length - pos < 4) {
        drain();
      }
      char c = s.charAt(i);
      if (c < 0x80) {
        buf[pos++] = (byte) c;
      } else if (c < 0x800) {
        buf[pos++] = (byte) (0xC0 | (c >> 6));
        buf[pos++] = (byte) (0x80 | (c & 0x3F));
      } else if (Character.isHighSurrogate(c) && i + 1 < n) {
        int cp = Character.toCodePoint(c, s.charAt(++i));
        buf[pos++] = (byte) (0xF0 | (cp >> 18));
        buf[pos++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
        buf[pos++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
        buf[pos++] = (byte) (0x80 | (cp & 0x3F));
      } else {
        buf[pos++] = (byte) (0xE0 | (c >> 12));
        buf[pos++] = (byte) (0x80 | ((c >> 6) & 0x3F));
        buf[pos++] = (byte) (0x80 | (c & 0x3F));
      }
    }
  }

  /** Flushes and returns the 32-byte digest. */
  byte[] finish() {
    drain();
    return digest.digest();
  }
}
