package dev.aphelion.tritter.compress;

import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.error.ShapeException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * One worker's compressed gradient for one step, as the exact bytes that go on the wire (format in
 * {@code docs/formats.md}, "Compressed gradient wire format"), in one of three encodings ({@link
 * #encoding()}). {@link GradientEncoding#HEAVY_HITTERS}: a header, one f32 scale per magnitude
 * class, a bit stream of Rice-coded index gaps with a sign (and class) per entry, and a CRC32C;
 * entry {@code i} decodes to {@code ±scale[class]}, every other coordinate to 0. {@link
 * GradientEncoding#VSA_SKETCH}: a header, one f32 scale, m packed trits (the ternarized
 * hypervector) and a CRC32C; decoding unbinds with the job's seeded keys, so it needs the
 * {@link GradientCompressor} of the job. {@link GradientEncoding#COUNT_SKETCH}: a header with r,
 * c and k, then r f32 scales and r x c int8 buckets (a table), one scale and k int8 values (a
 * values message) or k f32 values (summed values), and a CRC32C; messages of one step can be summed ({@link
 * GradientCompressor#combine}), and decoding also needs the job's compressor.
 *
 * <p>Instances are immutable and were validated when built: {@link #fromBytes} checks length,
 * magic, version, checksum and every header field, so decoding only has to guard the bit stream.
 */
public final class TernaryCompressedGradient {
  private static final int MAGIC = GradientWireFormat.MAGIC;
  private static final int VERSION = GradientWireFormat.VERSION;
  private static final int HEADER_BYTES = GradientWireFormat.HEADER_BYTES;
  private static final int CRC_BYTES = GradientWireFormat.CRC_BYTES;
  private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private final byte[] bytes;
  private final GradientEncoding encoding;
  private final int sketchDimension;
  private final int sketchRows;
  private final int dimension;
  private final long step;
  private final long seedFingerprint;
  private final int valueBits;
  private final int riceParam;
  private final int count;
  private final float[] scales;
  private final int payloadOffset;
  private final int payloadLength;

  private TernaryCompressedGradient(byte[] bytes, GradientEncoding encoding, int sketchDimension, int dimension,
      long step, long seedFingerprint, int valueBits, int riceParam, int count, float[] scales, int payloadOffset,
      int payloadLength) {
    this(bytes, encoding, sketchDimension, encoding == GradientEncoding.VSA_SKETCH ? 1 : 0, dimension, step, seedFingerprint,
        valueBits, riceParam, count, scales, payloadOffset, payloadLength);
  }

  private TernaryCompressedGradient(byte[] bytes, GradientEncoding encoding, int sketchDimension, int sketchRows, int dimension,
      long step, long seedFingerprint, int valueBits, int riceParam, int count, float[] scales, int payloadOffset,
      int payloadLength) {
    this.bytes = bytes;
    this.encoding = encoding;
    this.sketchDimension = sketchDimension;
    this.sketchRows = sketchRows;
    this.dimension = dimension;
    this.step = step;
    this.seedFingerprint = seedFingerprint;
    this.valueBits = valueBits;
    this.riceParam = riceParam;
    this.count = count;
    this.scales = scales;
    this.payloadOffset = payloadOffset;
    this.payloadLength = payloadLength;
  }

  /**
   * Parses and validates a message (the array is copied).
   *
   * @param wire the bytes received
   * @return the gradient
   * @throws SerializationException if the bytes are truncated, corrupt (checksum), of another
   *     format or version, or hold out-of-range fields
   */
  public static TernaryCompressedGradient fromBytes(byte[] wire) {
    Objects.requireNonNull(wire, "wire");
    return parse(wire.clone());
  }

  static TernaryCompressedGradient parse(byte[] b) {
    if (b.length < HEADER_BYTES + CRC_BYTES) {
      throw new SerializationException("compressed gradient truncated: " + b.length + " bytes, the header alone needs "
          + (HEADER_BYTES + CRC_BYTES));
    }
    ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    if (h.getInt(0) != MAGIC) {
      throw new SerializationException("not a compressed gradient: bad magic 0x" + Integer.toHexString(h.getInt(0))
          + " (expected the bytes APGC)");
    }
    int version = b[4] & 0xFF;
    if (version != 1 && version != VERSION) {
      throw new SerializationException("unsupported compressed gradient version " + version + " (this reader knows 1 and " + VERSION + ")");
    }
    if (version == VERSION && (b[5] & 0xFF) == GradientEncoding.VSA_SKETCH.wireId()) {
      return parseSketch(b, h);
    }
    if (version == VERSION && (b[5] & 0xFF) == GradientEncoding.COUNT_SKETCH.wireId()) {
      return parseCountSketch(b, h);
    }
    int payloadLength = h.getInt(32);
    int valueBits = b[6] & 0xFF;
    int groups = valueBits >= 1 && valueBits <= GradientCompressor.MAX_VALUE_BITS ? 1 << (valueBits - 1) : 0;
    long expected = (long) HEADER_BYTES + 4L * groups + (payloadLength & 0xFFFFFFFFL) + CRC_BYTES;
    if (groups > 0 && b.length < expected) {
      throw new SerializationException("compressed gradient truncated: " + b.length + " bytes, its header announces " + expected);
    }
    checkCrc(b, h);
    int encoding = b[5] & 0xFF;
    if (encoding != GradientEncoding.HEAVY_HITTERS.wireId()) {
      throw new SerializationException("unknown compressed gradient encoding " + encoding + " for version " + version
          + " (known: 1 = heavy hitters" + (version == VERSION ? ", 2 = VSA sketch, 3 = count sketch)" : ")"));
    }
    if (groups == 0) {
      throw new SerializationException("value bits must be 1 to " + GradientCompressor.MAX_VALUE_BITS + ", got " + valueBits);
    }
    if (b.length != expected) {
      throw new SerializationException("compressed gradient length " + b.length + " != " + expected + " announced by its header");
    }
    int riceParam = b[7] & 0xFF;
    if (riceParam > 30) {
      throw new SerializationException("Rice parameter must be 0 to 30, got " + riceParam);
    }
    int dimension = h.getInt(8);
    if (dimension < 1) {
      throw new SerializationException("dimension must be positive, got " + (dimension & 0xFFFFFFFFL));
    }
    int count = h.getInt(28);
    if (count < 0 || count > dimension) {
      throw new SerializationException("entry count " + (count & 0xFFFFFFFFL) + " outside [0, dimension " + dimension + "]");
    }
    long minBits = (long) count * (1 + riceParam + valueBits);
    if (minBits > 8L * payloadLength) {
      throw new SerializationException("payload of " + payloadLength + " bytes cannot hold " + count + " entries");
    }
    float[] scales = new float[groups];
    for (int g = 0; g < groups; g++) {
      float s = h.getFloat(HEADER_BYTES + 4 * g);
      if (!(s >= 0f) || Float.isInfinite(s)) {
        throw new SerializationException("scale " + g + " is " + s + ", expected a finite value >= 0");
      }
      scales[g] = s;
    }
    return new TernaryCompressedGradient(b, GradientEncoding.HEAVY_HITTERS, 0, dimension, h.getLong(12), h.getLong(20),
        valueBits, riceParam, count, scales, HEADER_BYTES + 4 * groups, payloadLength);
  }

  private static TernaryCompressedGradient parseSketch(byte[] b, ByteBuffer h) {
    checkCrc(b, h);
    if (b[6] != 0 || b[7] != 0) {
      throw new SerializationException("VSA sketch header bytes 6 and 7 must be zero, got " + (b[6] & 0xFF) + " and " + (b[7] & 0xFF));
    }
    int dimension = h.getInt(8);
    if (dimension < 1) {
      throw new SerializationException("dimension must be positive, got " + (dimension & 0xFFFFFFFFL));
    }
    int m = h.getInt(28);
    if (m < 1 || m > dimension) {
      throw new SerializationException("hypervector dimension " + (m & 0xFFFFFFFFL) + " outside [1, dimension " + dimension + "]");
    }
    int tritBytes = (m + 3) >>> 2;
    long expected = (long) (HEADER_BYTES + CRC_BYTES) + tritBytes;
    if (b.length != expected) {
      throw new SerializationException("compressed gradient length " + b.length + " != " + expected
          + " for a VSA sketch of " + m + " buckets (truncated or corrupt)");
    }
    float scale = h.getFloat(32);
    if (!(scale >= 0f) || Float.isInfinite(scale)) {
      throw new SerializationException("scale is " + scale + ", expected a finite value >= 0");
    }
    int nnz = 0;
    int off = HEADER_BYTES;
    int i = 0;
    // eight bytes at a time; a word with a code 11 is left to the byte loop, which names the byte
    for (; i + 8 <= tritBytes; i += 8) {
      long v = (long) LONG_LE.get(b, off + i);
      if ((v & (v >>> 1) & 0x5555555555555555L) != 0) {
        break;
      }
      nnz += Long.bitCount((v | (v >>> 1)) & 0x5555555555555555L);
    }
    for (; i < tritBytes; i++) {
      int v = b[off + i] & 0xFF;
      if ((v & (v >>> 1) & 0x55) != 0) {
        throw new SerializationException("trit code 11 in byte " + i + " of the VSA sketch (corrupt payload)");
      }
      nnz += Integer.bitCount((v | (v >>> 1)) & 0x55);
    }
    int padTrits = 4 * tritBytes - m;
    if (padTrits > 0 && ((b[off + tritBytes - 1] & 0xFF) >>> (2 * (4 - padTrits))) != 0) {
      throw new SerializationException("VSA sketch padding bits after trit " + m + " are not zero (corrupt payload)");
    }
    return new TernaryCompressedGradient(b, GradientEncoding.VSA_SKETCH, m, dimension, h.getLong(12), h.getLong(20),
        2, 0, nnz, new float[] {scale}, off, tritBytes);
  }

  private static TernaryCompressedGradient parseCountSketch(byte[] b, ByteBuffer h) {
    checkCrc(b, h);
    int rows = b[GradientWireFormat.COUNT_SKETCH_ROWS_OFFSET] & 0xFF;
    if (rows < 1 || rows > GradientWireFormat.COUNT_SKETCH_MAX_ROWS || rows % 2 == 0) {
      throw new SerializationException("count sketch rows must be odd and in [1, " + GradientWireFormat.COUNT_SKETCH_MAX_ROWS
          + "], got " + rows);
    }
    int kind = b[GradientWireFormat.COUNT_SKETCH_KIND_OFFSET] & 0xFF;
    if (kind > GradientWireFormat.COUNT_SKETCH_SUM) {
      throw new SerializationException("count sketch message kind must be 0 (table), 1 (values) or 2 (summed values), got " + kind);
    }
    int dimension = h.getInt(GradientWireFormat.DIMENSION_OFFSET);
    if (dimension < 1) {
      throw new SerializationException("dimension must be positive, got " + (dimension & 0xFFFFFFFFL));
    }
    int c = h.getInt(GradientWireFormat.COUNT_SKETCH_COLUMNS_OFFSET);
    if (c < 1 || c > dimension) {
      throw new SerializationException("count sketch columns " + (c & 0xFFFFFFFFL) + " outside [1, dimension " + dimension + "]");
    }
    int k = h.getInt(GradientWireFormat.COUNT_SKETCH_TOP_K_OFFSET);
    if (k < 1 || k > dimension) {
      throw new SerializationException("count sketch k " + (k & 0xFFFFFFFFL) + " outside [1, dimension " + dimension + "]");
    }
    long expected = kind == GradientWireFormat.COUNT_SKETCH_TABLE ? HEADER_BYTES + 4L * rows + (long) rows * c + CRC_BYTES
        : kind == GradientWireFormat.COUNT_SKETCH_VALUES ? HEADER_BYTES + 4L + k + CRC_BYTES : HEADER_BYTES + 4L * k + CRC_BYTES;
    String shape = kind == GradientWireFormat.COUNT_SKETCH_TABLE ? "table of " + rows + " x " + c + " buckets"
        : (kind == GradientWireFormat.COUNT_SKETCH_VALUES ? "values message of " : "summed values message of ") + k + " values";
    if (b.length != expected) {
      throw new SerializationException("compressed gradient length " + b.length + " != " + expected + " for a count sketch "
          + shape + " (truncated or corrupt)");
    }
    int scales = kind == GradientWireFormat.COUNT_SKETCH_TABLE ? rows : kind == GradientWireFormat.COUNT_SKETCH_VALUES ? 1 : 0;
    for (int u = 0; u < scales; u++) {
      float v = h.getFloat(HEADER_BYTES + 4 * u);
      // code * scale must stay finite: at most 127 * scale
      if (!(v >= 0f) || !(v <= Float.MAX_VALUE / 127f)) {
        throw new SerializationException("count sketch scale " + u + " is " + v + ", expected a value in [0, "
            + Float.MAX_VALUE / 127f + "]");
      }
    }
    int codes = HEADER_BYTES + 4 * scales;
    int payload = (int) (b.length - CRC_BYTES - codes);
    if (kind == GradientWireFormat.COUNT_SKETCH_SUM) {
      for (int j = 0; j < k; j++) {
        float v = h.getFloat(codes + 4 * j);
        if (!Float.isFinite(v)) {
          throw new SerializationException("count sketch summed value " + j + " is " + v + ", expected a finite value (corrupt payload)");
        }
      }
    } else {
      for (int u = 0; u < payload; u++) {
        if (b[codes + u] == Byte.MIN_VALUE) {
          throw new SerializationException("count sketch int8 code " + u + " is -128, outside [-127, 127] (corrupt payload)");
        }
      }
    }
    // the Rice parameter slot carries the message kind (count sketches have no Rice code)
    return new TernaryCompressedGradient(b, GradientEncoding.COUNT_SKETCH, c, rows, dimension, h.getLong(12), h.getLong(20),
        kind == GradientWireFormat.COUNT_SKETCH_SUM ? 32 : 8, kind, k, new float[0], codes, payload);
  }

  private static void checkCrc(byte[] b, ByteBuffer h) {
    int computed = GradientWireFormat.checksum(b);
    int stored = h.getInt(b.length - CRC_BYTES);
    if (computed != stored) {
      throw new SerializationException("compressed gradient checksum mismatch (CRC32C 0x" + Integer.toHexString(computed)
          + " != stored 0x" + Integer.toHexString(stored) + "): corrupted or truncated in transit");
    }
  }

  /** The VSA sketch's scale (the decoded magnitude of a non-zero trit). */
  float scaleOfSketch() {
    return scales[0];
  }

  /** The wire bytes (not copied; never modify). */
  byte[] rawBytes() {
    return bytes;
  }

  /** The offset of the payload (Rice-coded entries or packed trits). */
  int payloadOffset() {
    return payloadOffset;
  }

  /**
   * Decodes into {@code out}: {@code out[i] = out[i] + weight * decoded[i]} when {@code add}, else
   * {@code out[i] = weight * decoded[i]}.
   *
   * @throws SerializationException if the bit stream is inconsistent with the header
   */
  void decodeInto(float[] out, float weight, boolean add) {
    if (encoding != GradientEncoding.HEAVY_HITTERS) {
      throw new IllegalStateException("the " + encoding + " encoding decodes through GradientCompressor (it needs the job seed)");
    }
    if (out.length < dimension) {
      throw new ShapeException("output holds " + out.length + " values, the gradient has dimension " + dimension);
    }
    if (!add) {
      Arrays.fill(out, 0, dimension, 0f);
    }
    int groups = scales.length;
    int classBits = valueBits - 1;
    // value table indexed by the sent sign-and-class bits (sign in bit 0): no branch per entry;
    // value[NO_CODE] = -0f is what a table entry's absent second code adds (x + -0f == x for every x)
    float[] value = new float[NO_CODE + 1];
    for (int g = 0; g < groups; g++) {
      value[2 * g] = weight * scales[g];
      value[2 * g + 1] = -value[2 * g];
    }
    value[NO_CODE] = -0f;
    BitStream.Reader r = new BitStream.Reader(bytes, payloadOffset, payloadOffset + payloadLength);
    long index = -1;
    int rp = riceParam;
    int extraBits = 1 + classBits;
    long maxQ = ((long) dimension >>> rp) + 1;
    long[] table = count >= RICE_TABLE_MIN_ENTRIES ? riceTable(rp, extraBits) : null;
    int e = 0;
    while (e < count) {
      if (table != null && count - e >= 8) {
        // one refill of at least 48 bits serves four lookups of up to two codes each
        r.refill();
        if (r.bufferedBits() >= 4 * RICE_PEEK) {
          int l = 0;
          for (; l < 4; l++) {
            long t = table[(int) r.buffered() & ((1 << RICE_PEEK) - 1)];
            if (t == 0) {
              break;
            }
            r.consume((int) t & 15);
            index = checkedIndex(index + ((t >>> 8) & 0xFFF), e);
            out[(int) index] += value[(int) (t >>> 20) & 0x1FF];
            index = checkedIndex(index + ((t >>> 29) & 0xFFF), e + 1);
            out[(int) index] += value[(int) (t >>> 41) & 0x1FF];
            e += (int) (t >>> 4) & 3;
          }
          if (l == 4) {
            continue;
          }
        }
      }
      // one code: a window without a whole code, the stream's end, or a small message
      long gap = r.readRice(rp, extraBits, maxQ);
      index = checkedIndex(index + gap + 1, e);
      out[(int) index] += value[(int) r.extra()];
      e++;
    }
    if (r.remainingBits() >= 8 || r.peekRemaining() != 0) {
      throw new SerializationException("compressed gradient payload has " + r.remainingBits() + " unexpected trailing bits (corrupt)");
    }
  }

  /** Bits a {@link #riceTable} lookup sees. */
  private static final int RICE_PEEK = 12;

  /** Below this many entries the table costs more to build than it saves. */
  private static final int RICE_TABLE_MIN_ENTRIES = 1 << 13;

  private long checkedIndex(long index, int entry) {
    if (index >= dimension) {
      throw new SerializationException("entry " + entry + " points at index " + index + " beyond dimension " + dimension
          + " (corrupt payload)");
    }
    return index;
  }

  /** The extra-bits value of an absent second code in a {@link #riceTable} entry. */
  private static final int NO_CODE = 256;

  /**
   * For each {@link #RICE_PEEK}-bit window of the stream, the Rice codes (unary quotient, stop
   * bit, {@code rp} low bits, {@code extraBits} extra bits) that lie wholly inside it, at most
   * two: bits 0-3 the bits they take, 4-5 how many, then per code 12 bits of gap + 1 and 9 of
   * extra bits (at 8 and 20, and at 29 and 41; an absent second code has gap + 1 = 0 and extra
   * {@link #NO_CODE}). Windows whose first code does not fit hold 0 and are read by {@link
   * BitStream.Reader#readRice}. A quotient too long for the dimension needs no check here: its
   * index lies beyond the dimension, which the caller rejects.
   */
  static long[] riceTable(int rp, int extraBits) {
    long[] t = new long[1 << RICE_PEEK];
    int tail = rp + extraBits;
    for (int w = 0; w < t.length; w++) {
      int used = 0, codes = 0;
      long entry = 0;
      while (codes < 2) {
        int rest = w >>> used;
        if (rest == 0) {
          break;
        }
        int z = Integer.numberOfTrailingZeros(rest);
        int len = z + 1 + tail;
        if (len > RICE_PEEK - used) {
          break;
        }
        int tl = (rest >>> (z + 1)) & ((1 << tail) - 1);
        long gap = ((long) z << rp) | (tl & ((1 << rp) - 1));
        long extra = tl >>> rp;
        entry |= ((gap + 1) | (extra << 12)) << (8 + 21 * codes);
        used += len;
        codes++;
      }
      if (codes == 1) {
        entry |= (long) NO_CODE << 41;
      }
      t[w] = codes == 0 ? 0 : entry | used | ((long) codes << 4);
    }
    return t;
  }

  /** How this message is encoded. */
  public GradientEncoding encoding() {
    return encoding;
  }

  /**
   * The VSA sketch's hypervector dimension m (number of buckets), or the count sketch's number of
   * columns c (buckets per row); 0 for heavy hitters.
   */
  public int sketchDimension() {
    return sketchDimension;
  }

  /**
   * Whether this is a count sketch values message (round 2: the sender's exact values at the k
   * coordinates selected from the summed table), rather than a table.
   */
  public boolean isSketchValues() {
    return encoding == GradientEncoding.COUNT_SKETCH && riceParam != GradientWireFormat.COUNT_SKETCH_TABLE;
  }

  /** Whether this is a summed count sketch values message (f32 values, the output of a combine). */
  public boolean isSummedValues() {
    return encoding == GradientEncoding.COUNT_SKETCH && riceParam == GradientWireFormat.COUNT_SKETCH_SUM;
  }

  /** The count sketch's number of rows r; 1 for the VSA sketch, 0 for heavy hitters. */
  public int sketchRows() {
    return sketchRows;
  }

  /** The number of coordinates of the original gradient. */
  public int dimension() {
    return dimension;
  }

  /** The sender's step counter (0 for its first compressed gradient). */
  public long step() {
    return step;
  }

  /** A 64-bit fingerprint of the job seed (the first SplitMix64 output of the seed). */
  public long seedFingerprint() {
    return seedFingerprint;
  }

  /**
   * The number of non-zero entries carried (heavy hitters), non-zero trits (VSA sketch), or
   * coordinates the decoder recovers, k (count sketch).
   */
  public int nonZeroCount() {
    return count;
  }

  /**
   * Bits per entry spent on the value: 1 (sign only) to 8 (sign and one of 128 magnitude classes)
   * for heavy hitters; 2 (bits per trit) for the VSA sketch; 8 (int8 codes) for count sketch tables
   * and values, 32 for summed count sketch values.
   */
  public int valueBits() {
    return valueBits;
  }

  /**
   * The per-class magnitudes (a copy), smallest class first; the VSA sketch has one, the count
   * sketch none.
   */
  public float[] scales() {
    return scales.clone();
  }

  /** The exact size on the wire in bytes, header, scales and checksum included. */
  public int wireSize() {
    return bytes.length;
  }

  /** A copy of the wire bytes. */
  public byte[] toBytes() {
    return bytes.clone();
  }

  /** The f32 size of the uncompressed gradient in bytes. */
  public long originalBytes() {
    return 4L * dimension;
  }

  /** Wire bytes over f32 bytes, for example 0.03 for a gradient sent 33x smaller. */
  public double compressionRatio() {
    return (double) bytes.length / originalBytes();
  }

  /** f32 bytes over wire bytes, for example 33.3; the inverse of {@link #compressionRatio()}. */
  public double compressionFactor() {
    return originalBytes() / (double) bytes.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TernaryCompressedGradient t && Arrays.equals(t.bytes, bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return "TernaryCompressedGradient[" + encoding + (encoding == GradientEncoding.VSA_SKETCH ? ", m=" + sketchDimension
        : encoding == GradientEncoding.COUNT_SKETCH ? ", rows=" + sketchRows + ", columns=" + sketchDimension : "")
        + ", dimension=" + dimension + ", step=" + step + ", entries=" + count
        + ", valueBits=" + valueBits + ", wireBytes=" + bytes.length + String.format(", factor=%.1fx]", compressionFactor());
  }
}
