package dev.aphelion.tritter.compress;

import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.error.ShapeException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * One worker's compressed gradient for one step, as the exact bytes that go on the wire (format in
 * {@code docs/formats.md}, "Compressed gradient wire format"), in one of two encodings ({@link
 * #encoding()}). {@link GradientEncoding#HEAVY_HITTERS}: a header, one f32 scale per magnitude
 * class, a bit stream of Rice-coded index gaps with a sign (and class) per entry, and a CRC32C;
 * entry {@code i} decodes to {@code ±scale[class]}, every other coordinate to 0. {@link
 * GradientEncoding#VSA_SKETCH}: a header, one f32 scale, m packed trits (the ternarized
 * hypervector) and a CRC32C; decoding unbinds with the job's seeded keys, so it needs the
 * {@link GradientCompressor} of the job.
 *
 * <p>Instances are immutable and were validated when built: {@link #fromBytes} checks length,
 * magic, version, checksum and every header field, so decoding only has to guard the bit stream.
 */
public final class TernaryCompressedGradient {
  private static final int MAGIC = GradientWireFormat.MAGIC;
  private static final int VERSION = GradientWireFormat.VERSION;
  private static final int HEADER_BYTES = GradientWireFormat.HEADER_BYTES;
  private static final int CRC_BYTES = GradientWireFormat.CRC_BYTES;

  private final byte[] bytes;
  private final GradientEncoding encoding;
  private final int sketchDimension;
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
    this.bytes = bytes;
    this.encoding = encoding;
    this.sketchDimension = sketchDimension;
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
          + " (known: 1 = heavy hitters" + (version == VERSION ? ", 2 = VSA sketch)" : ")"));
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
    for (int i = 0; i < tritBytes; i++) {
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
      throw new IllegalStateException("the VSA sketch decodes through GradientCompressor (it needs the job seed)");
    }
    if (out.length < dimension) {
      throw new ShapeException("output holds " + out.length + " values, the gradient has dimension " + dimension);
    }
    if (!add) {
      Arrays.fill(out, 0, dimension, 0f);
    }
    int groups = scales.length;
    int classBits = valueBits - 1;
    // value table indexed by the sent sign-and-class bits (sign in bit 0): no branch per entry
    float[] value = new float[2 * groups];
    for (int g = 0; g < groups; g++) {
      value[2 * g] = weight * scales[g];
      value[2 * g + 1] = -value[2 * g];
    }
    BitStream.Reader r = new BitStream.Reader(bytes, payloadOffset, payloadOffset + payloadLength);
    long index = -1;
    int rp = riceParam;
    long maxQ = ((long) dimension >>> rp) + 1;
    for (int e = 0; e < count; e++) {
      long gap = r.readRice(rp, 1 + classBits, maxQ);
      index += gap + 1;
      if (index >= dimension) {
        throw new SerializationException("entry " + e + " points at index " + index + " beyond dimension " + dimension + " (corrupt payload)");
      }
      int i = (int) index;
      out[i] += value[(int) r.extra()];
    }
    if (r.remainingBits() >= 8 || r.peekRemaining() != 0) {
      throw new SerializationException("compressed gradient payload has " + r.remainingBits() + " unexpected trailing bits (corrupt)");
    }
  }

  /** How this message is encoded. */
  public GradientEncoding encoding() {
    return encoding;
  }

  /** The VSA sketch's hypervector dimension m (number of buckets); 0 for heavy hitters. */
  public int sketchDimension() {
    return sketchDimension;
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

  /** The number of non-zero entries carried (heavy hitters) or non-zero trits (VSA sketch). */
  public int nonZeroCount() {
    return count;
  }

  /**
   * Bits per entry spent on the value: 1 (sign only) to 8 (sign and one of 128 magnitude classes)
   * for heavy hitters; 2 (bits per trit) for the VSA sketch.
   */
  public int valueBits() {
    return valueBits;
  }

  /** The per-class magnitudes (a copy), smallest class first; the VSA sketch has one. */
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
    return "TernaryCompressedGradient[" + encoding + (encoding == GradientEncoding.VSA_SKETCH ? ", m=" + sketchDimension : "")
        + ", dimension=" + dimension + ", step=" + step + ", entries=" + count
        + ", valueBits=" + valueBits + ", wireBytes=" + bytes.length + String.format(", factor=%.1fx]", compressionFactor());
  }
}
