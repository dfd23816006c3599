package dev.aphelion.tritter.compress;

import dev.aphelion.core.error.SerializationException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Little-endian, least-significant-bit-first bit writer and bounds-checked reader, a 64-bit word
 * at a time: the writer stores its 64-bit accumulator with one little-endian long store per write,
 * the reader refills with one long load while eight bytes remain (byte by byte only at the end).
 */
final class BitStream {
  private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private BitStream() {}

  /**
   * Appends bits into a byte array at a byte offset, branch-free: each write ORs its bits into a
   * 64-bit accumulator and stores the whole accumulator with one little-endian long store, then
   * advances by the whole bytes written. The array needs 8 bytes of slack after the last byte the
   * bits occupy: the stores run ahead and overwrite up to 8 bytes from the current byte (with
   * the pending bits and zeros, so earlier contents of the array never leak into the stream).
   */
  static final class Writer {
    private final byte[] out;
    private int pos; // byte holding the lowest pending bit
    private long buffer; // pending bits, the low `filled` of them valid, zero above
    private int filled; // 0..7 between writes

    Writer(byte[] out, int offset) {
      this.out = out;
      this.pos = offset;
    }

    /** Writes the low {@code n} (0..56) bits of {@code value}. */
    void write(long value, int n) {
      writeMasked(value & ((1L << n) - 1), n);
    }

    /** Writes {@code n} (0..56) bits; {@code value} must have no bits set at or above bit n. */
    void writeMasked(long value, int n) {
      long b = buffer | (value << filled);
      int f = filled + n; // at most 63
      LONG_LE.set(out, pos, b);
      int bytes = f >>> 3;
      pos += bytes;
      filled = f & 7;
      buffer = b >>> (bytes << 3); // shift at most 56
    }

    /** Writes {@code q} zero bits followed by a one bit. */
    void writeUnary(long q) {
      while (q >= 56) {
        writeMasked(0, 56);
        q -= 56;
      }
      writeMasked(1L << q, (int) q + 1);
    }

    /**
     * Writes a Rice code: {@code q} zero bits, a one bit, then the low {@code n} bits of {@code
     * tail} (no bits above them may be set); a single accumulator step when it fits 56 bits.
     */
    void writeRice(long q, long tail, int n) {
      if (q + 1 + n <= 56) {
        writeMasked((1L << q) | (tail << (q + 1)), (int) q + 1 + n);
      } else {
        writeUnary(q);
        writeMasked(tail, n);
      }
    }

    /** Flushes the partial last byte (zero padded, already stored); returns the end offset. */
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
    private long buffer; // the low `available` bits are unread stream bits, zero above
    private int available;
    private long extra;

    Reader(byte[] in, int offset, int end) {
      this.in = in;
      this.pos = offset;
      this.end = end;
    }

    /** Takes as many whole bytes of one long load as fit (at least 8 bytes left): available ends in 56..63. */
    private void loadWord() {
      int bytes = (63 - available) >>> 3;
      long word = (long) LONG_LE.get(in, pos);
      int next = available + 8 * bytes;
      buffer |= (word << available) & ((1L << next) - 1);
      pos += bytes;
      available = next;
    }

    /** Tops the buffer up to more than 56 bits, or to the end of the stream. */
    void refill() {
      if (available > 56) {
        return;
      }
      if (end - pos >= 8) {
        loadWord();
      } else {
        while (available <= 56 && pos < end) {
          buffer |= (in[pos++] & 0xFFL) << available;
          available += 8;
        }
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
      if (buffer != 0) {
        // fast path: the one bit is already buffered (bits above `available` are zero)
        int z = Long.numberOfTrailingZeros(buffer);
        // z + 1 can be 64, and a shift by 64 is a shift by 0 in Java
        buffer = z == 63 ? 0 : buffer >>> (z + 1);
        available -= z + 1;
        if (z > max) {
          throw new SerializationException("gap code longer than the dimension allows (corrupt payload)");
        }
        return z;
      }
      long q = 0;
      while (true) {
        if (available == 0 || buffer == 0) {
          q += available;
          buffer = 0;
          available = 0;
          if (q > max) {
            throw new SerializationException("gap code longer than the dimension allows (corrupt payload)");
          }
          refill();
          if (available == 0) {
            throw new SerializationException("compressed gradient payload ends inside a gap code (truncated or corrupt)");
          }
        } else {
          int z = Long.numberOfTrailingZeros(buffer);
          q += z;
          buffer = z == 63 ? 0 : buffer >>> (z + 1);
          available -= z + 1;
          break;
        }
      }
      if (q > max) {
        throw new SerializationException("gap code longer than the dimension allows (corrupt payload)");
      }
      return q;
    }

    /**
     * Reads one Rice code: a unary quotient {@code q} (at most {@code max}), then {@code rp} low
     * bits and {@code extraBits} more bits; returns {@code (q << rp) | low}, and the extra bits
     * through {@link #extra()}. One buffer step when the whole code is buffered.
     */
    long readRice(int rp, int extraBits, long max) {
      int tailBits = rp + extraBits;
      if (end - pos >= 8 && available <= 63) {
        // unconditional word refill (possibly of zero bytes): no data-dependent branch per code
        loadWord();
      } else if (available <= 56) {
        refill();
      }
      long buf = buffer;
      if (buf != 0) {
        int z = Long.numberOfTrailingZeros(buf);
        int used = z + 1 + tailBits;
        if (used <= available) { // available <= 64; z + 1 <= 64 only reaches 64 with tailBits 0
          if (z > max) {
            throw new SerializationException("gap code longer than the dimension allows (corrupt payload)");
          }
          long tail = z == 63 ? 0 : (buf >>> (z + 1)) & ((1L << tailBits) - 1);
          buffer = used == 64 ? 0 : buf >>> used;
          available -= used;
          extra = tail >>> rp;
          return ((long) z << rp) | (tail & ((1L << rp) - 1));
        }
      }
      long q = readUnary(max);
      long tail = read(tailBits);
      extra = tail >>> rp;
      return (q << rp) | (tail & ((1L << rp) - 1));
    }

    /** The buffered bits, next bit lowest; zero above {@link #bufferedBits()}. */
    long buffered() {
      return buffer;
    }

    /** How many bits are buffered. */
    int bufferedBits() {
      return available;
    }

    /** Drops {@code n} buffered bits, {@code n <= bufferedBits() < 64}. */
    void consume(int n) {
      buffer >>>= n;
      available -= n;
    }

    /** The extra bits of the last {@link #readRice} code. */
    long extra() {
      return extra;
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
