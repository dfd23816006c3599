package dev.aphelion.tritter.training;

import dev.aphelion.core.error.SerializationException;

/** Little-endian, least-significant-bit-first bit writer and bounds-checked reader. */
final class BitStream {
  private BitStream() {}

  /** Appends bits into a byte array at a byte offset; the array must be large enough. */
  static final class Writer {
    private final byte[] out;
    private int pos; // next byte to write
    private long buffer;
    private int filled;

    Writer(byte[] out, int offset) {
      this.out = out;
      this.pos = offset;
    }

    /** Writes the low {@code n} (0..57) bits of {@code value}. */
    void write(long value, int n) {
      buffer |= (value & ((1L << n) - 1)) << filled;
      filled += n;
      while (filled >= 8) {
        out[pos++] = (byte) buffer;
        buffer >>>= 8;
        filled -= 8;
      }
    }

    /** Writes {@code q} zero bits followed by a one bit. */
    void writeUnary(long q) {
      while (q >= 48) {
        write(0, 48);
        q -= 48;
      }
      write(1L << q, (int) q + 1);
    }

    /** Flushes a partial byte (zero padded); returns the end offset. */
    int finish() {
      if (filled > 0) {
        out[pos++] = (byte) buffer;
        buffer = 0;
        filled = 0;
      }
      return pos;
    }
  }

  /** Reads bits from {@code [offset, end)} of an array; overruns raise SerializationException. */
  static final class Reader {
    private final byte[] in;
    private final int end;
    private int pos;
    private long buffer;
    private int available;

    Reader(byte[] in, int offset, int end) {
      this.in = in;
      this.pos = offset;
      this.end = end;
    }

    private void refill() {
      while (available <= 56 && pos < end) {
        buffer |= (in[pos++] & 0xFFL) << available;
        available += 8;
      }
    }

    /** Reads {@code n} (0..56) bits. */
    long read(int n) {
      if (available < n) {
        refill();
        if (available < n) {
          throw new SerializationException("compressed gradient payload ends early (truncated or corrupt bit stream)");
        }
      }
      long v = buffer & ((1L << n) - 1);
      buffer >>>= n;
      available -= n;
      return v;
    }

    /** Reads a unary count: zero bits up to a one bit; at most {@code max} zeros accepted. */
    long readUnary(long max) {
      long q = 0;
      while (true) {
        if (available == 0) {
          refill();
          if (available == 0) {
            throw new SerializationException("compressed gradient payload ends inside a gap code (truncated or corrupt)");
          }
        }
        if (buffer == 0) {
          q += available;
          buffer = 0;
          available = 0;
        } else {
          int z = Long.numberOfTrailingZeros(buffer);
          q += z;
          // z + 1 can be 64, and a shift by 64 is a shift by 0 in Java
          buffer = z == 63 ? 0 : buffer >>> (z + 1);
          available -= z + 1;
          break;
        }
        if (q > max) {
          throw new SerializationException("gap code longer than the dimension allows (corrupt payload)");
        }
      }
      if (q > max) {
        throw new SerializationException("gap code longer than the dimension allows (corrupt payload)");
      }
      return q;
    }

    /** Bits not yet consumed, counting unread bytes. */
    long remainingBits() {
      return available + 8L * (end - pos);
    }

    /** The unconsumed bits (at most 7 of padding expected), for the zero-padding check. */
    long peekRemaining() {
      refill();
      return buffer & (available == 64 ? -1L : ((1L << available) - 1));
    }
  }
}
