package dev.aphelion.tritter.compress;

import dev.aphelion.tritter.random.SplitMix64;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * The compressed-gradient wire format ({@code docs/formats.md}, "Compressed gradient wire
 * format"), declared once: the header layout all encodings share, the VSA and count sketches' dimension
 * and key-schedule formulas, the specified clip-norm summation order, and the checksum. The CPU
 * compressor and other implementations of the format (the GPU compressor of aphelion-cuda) build
 * their messages through this class, so a format change is one edit.
 *
 * <p>All multi-byte fields are little-endian. Every message is {@link #HEADER_BYTES} of header,
 * an encoding-specific body and a {@link #CRC_BYTES}-byte CRC32C of everything before it.
 */
public final class GradientWireFormat {
  /** The four magic bytes {@code "APGC"} that start every message, read as a little-endian int. */
  public static final int MAGIC = 0x43475041;
  /** The format version written; version 1 (heavy hitters only, same layout) is still read. */
  public static final int VERSION = 2;
  /** Bytes of the header, before the body. */
  public static final int HEADER_BYTES = 36;
  /** Bytes of the trailing CRC32C. */
  public static final int CRC_BYTES = 4;

  /** Offset of the magic (int). */
  public static final int MAGIC_OFFSET = 0;
  /** Offset of the version (byte). */
  public static final int VERSION_OFFSET = 4;
  /** Offset of the encoding id (byte), {@link GradientEncoding#wireId()}. */
  public static final int ENCODING_OFFSET = 5;
  /** Offset of the gradient dimension n (int). */
  public static final int DIMENSION_OFFSET = 8;
  /** Offset of the step number (long). */
  public static final int STEP_OFFSET = 12;
  /** Offset of the seed fingerprint (long), the first SplitMix64 output of the job's seed. */
  public static final int SEED_FINGERPRINT_OFFSET = 20;
  /** Heavy hitters: offset of the value bits (byte). */
  public static final int VALUE_BITS_OFFSET = 6;
  /** Heavy hitters: offset of the Rice parameter (byte). */
  public static final int RICE_PARAMETER_OFFSET = 7;
  /** Heavy hitters: offset of the number of entries (int). */
  public static final int ENTRY_COUNT_OFFSET = 28;
  /** Heavy hitters: offset of the payload length in bytes (int). */
  public static final int PAYLOAD_BYTES_OFFSET = 32;
  /** VSA sketch: offset of the hypervector dimension m (int). */
  public static final int SKETCH_DIMENSION_OFFSET = 28;
  /** VSA sketch: offset of the scale (float). */
  public static final int SKETCH_SCALE_OFFSET = 32;

  /** Count sketch: offset of the number of rows r (byte). */
  public static final int COUNT_SKETCH_ROWS_OFFSET = 6;
  /** Count sketch: offset of the message kind (byte): {@link #COUNT_SKETCH_TABLE}, {@link #COUNT_SKETCH_VALUES}, {@link #COUNT_SKETCH_SUM}. */
  public static final int COUNT_SKETCH_KIND_OFFSET = 7;
  /** Count sketch message kind 0: round 1, r f32 row scales and the r x c int8 table. */
  public static final int COUNT_SKETCH_TABLE = 0;
  /** Count sketch message kind 1: round 2, one f32 scale and the sender's k values at the selected coordinates as int8. */
  public static final int COUNT_SKETCH_VALUES = 1;
  /** Count sketch message kind 2: the weighted sum of values messages, k f32 values. */
  public static final int COUNT_SKETCH_SUM = 2;
  /** Count sketch: offset of the number of columns c (int). */
  public static final int COUNT_SKETCH_COLUMNS_OFFSET = 28;
  /** Count sketch: offset of k, the number of coordinates the decoder recovers (int). */
  public static final int COUNT_SKETCH_TOP_K_OFFSET = 32;
  /** Count sketch: the largest number of rows. */
  public static final int COUNT_SKETCH_MAX_ROWS = 15;
  /** Count sketch: domain constant of the row seeds (the ASCII bytes "CSKETCH1" read big-endian). */
  public static final long COUNT_SKETCH_KEY_DOMAIN = 0x43534B4554434831L;
  /** Count sketch: k is {@code floor(c * COUNT_SKETCH_K_NUMERATOR / COUNT_SKETCH_K_DENOMINATOR)} (at least 1, at most n). */
  public static final int COUNT_SKETCH_K_NUMERATOR = 2;
  /** Count sketch: see {@link #COUNT_SKETCH_K_NUMERATOR}. */
  public static final int COUNT_SKETCH_K_DENOMINATOR = 1;

  /** VSA sketch: domain constant mixed into the step seed (the ASCII bytes "VSAKEYS1" read big-endian). */
  public static final long SKETCH_KEY_DOMAIN = 0x5653414B45595331L;
  /** VSA sketch: buckets per chunk of the specified lane sums. */
  public static final int SKETCH_SUM_CHUNK = 1024;
  /** Clip norm: lanes of the specified sum-of-squares order. */
  public static final int CLIP_SUM_LANES = 16;
  /** Clip norm: elements per chunk of the specified sum-of-squares order. */
  public static final int CLIP_SUM_CHUNK = 1024;

  private GradientWireFormat() {}

  /**
   * The VSA sketch's hypervector dimension for a gradient of {@code n} values at a wire ratio: as
   * many 2-bit buckets as fit {@code floor(ratio * 4 * n)} bytes after the header and checksum,
   * clamped to {@code [1, n]}.
   *
   * @param n gradient values, at least 1
   * @param ratio wire bytes over {@code 4 n}
   * @return m in {@code [1, n]}
   */
  public static int sketchDimension(int n, double ratio) {
    long budget = (long) Math.floor(ratio * 4.0 * n);
    long m = 4 * (budget - HEADER_BYTES - CRC_BYTES);
    return (int) Math.max(1, Math.min(n, m));
  }

  /**
   * The seed of one step's sketch keys: {@code mix64(seed ^ mix64(step ^ SKETCH_KEY_DOMAIN))}.
   *
   * @param seed the job's seed
   * @param step the step number
   * @return the step seed
   */
  public static long sketchStepSeed(long seed, long step) {
    return SplitMix64.mix64(seed ^ SplitMix64.mix64(step ^ SKETCH_KEY_DOMAIN));
  }

  /**
   * The rotation of block {@code j} of a step: output 1 of the SplitMix64 generator at state
   * {@code mix64(stepSeed + j)}, reduced to {@code [0, m)} by multiply-high of its upper 32 bits.
   *
   * @param stepSeed {@link #sketchStepSeed}
   * @param j the block
   * @param m the hypervector dimension
   * @return the rotation in {@code [0, m)}
   */
  public static int sketchRotation(long stepSeed, int j, int m) {
    long z = SplitMix64.mix64(stepSeed + j);
    long first = SplitMix64.mix64(z + SplitMix64.GOLDEN_GAMMA);
    return (int) (((first >>> 32) * m) >>> 32);
  }

  /**
   * The count sketch's number of columns for a gradient of {@code n} values at a wire ratio: the
   * table message ({@code 40 + 4 r + r c} bytes) and the values message ({@code 44 + k} bytes,
   * {@code k = c p / q}, {@code p / q = COUNT_SKETCH_K_NUMERATOR / COUNT_SKETCH_K_DENOMINATOR}) of
   * one step fit {@code budget = floor(ratio * 4 * n)} bytes: {@code c = floor((budget - 84 - 4 r)
   * q / (r q + p))}, clamped to {@code [1, n]}.
   *
   * @param n gradient values, at least 1
   * @param ratio wire bytes over {@code 4 n}
   * @param rows the number of rows r
   * @return c in {@code [1, n]}
   */
  public static int countSketchColumns(int n, double ratio, int rows) {
    long budget = (long) Math.floor(ratio * 4.0 * n);
    long p = COUNT_SKETCH_K_NUMERATOR, q = COUNT_SKETCH_K_DENOMINATOR;
    long c = (budget - 2L * (HEADER_BYTES + CRC_BYTES) - 4 - 4L * rows) * q / ((long) rows * q + p);
    return (int) Math.max(1, Math.min(n, c));
  }

  /**
   * The number of coordinates a count sketch of {@code c} columns recovers: {@code floor(c *
   * COUNT_SKETCH_K_NUMERATOR / COUNT_SKETCH_K_DENOMINATOR)}, clamped to {@code [1, n]}.
   *
   * @param n gradient values
   * @param c columns
   * @return k in {@code [1, n]}
   */
  public static int countSketchTopK(int n, int c) {
    return (int) Math.max(1, Math.min(n, (long) c * COUNT_SKETCH_K_NUMERATOR / COUNT_SKETCH_K_DENOMINATOR));
  }

  /**
   * The seed of row {@code row} of one step's count sketch: {@code mix64(mix64(seed ^ mix64(step ^
   * COUNT_SKETCH_KEY_DOMAIN)) + (row + 1) * GOLDEN_GAMMA)}. Block {@code j} (coordinates {@code
   * [j c, j c + c)}) of the row then takes its rotation and key words from the generator state
   * {@code mix64(rowSeed + j)} exactly as the VSA sketch does ({@link #sketchRotation}, key word
   * {@code w} = output {@code w + 2}).
   *
   * @param seed the job's seed
   * @param step the step number
   * @param row the row, 0 to r - 1
   * @return the row seed
   */
  public static long countSketchRowSeed(long seed, long step, int row) {
    long s = SplitMix64.mix64(seed ^ SplitMix64.mix64(step ^ COUNT_SKETCH_KEY_DOMAIN));
    return SplitMix64.mix64(s + (row + 1L) * SplitMix64.GOLDEN_GAMMA);
  }

  /**
   * The count sketch's int8 code of a value: {@code rint(v * inv)} (one rounded f32 product, ties
   * to even), clamped to [-127, 127].
   *
   * @param v the value
   * @param inv {@link #countSketchInverse} of the group's largest magnitude
   * @return the code
   */
  public static int countSketchQuantize(float v, float inv) {
    float q = (float) Math.rint(v * inv);
    return (int) Math.max(-127f, Math.min(127f, q));
  }

  /**
   * The scale of an int8 group (a table row, or a values message): {@code amax / 127}.
   *
   * @param amax the group's largest magnitude
   * @return the value of code 1
   */
  public static float countSketchScale(float amax) {
    return amax / 127f;
  }

  /**
   * The inverse scale used to quantize: {@code 127 / amax}, 0 when amax is 0.
   *
   * @param amax the group's largest magnitude
   * @return the factor
   */
  public static float countSketchInverse(float amax) {
    return amax == 0f ? 0f : 127f / amax;
  }

  /**
   * The length of a count sketch table message (kind 0) of {@code rows x columns} int8 buckets.
   *
   * @param rows r
   * @param columns c
   * @return header, row scales, buckets and checksum in bytes
   */
  public static int countSketchMessageBytes(int rows, int columns) {
    return Math.toIntExact(HEADER_BYTES + 4L * rows + (long) rows * columns + CRC_BYTES);
  }

  /**
   * The length of a count sketch values message (kind 1) of k values.
   *
   * @param k the number of values
   * @return header, scale, int8 codes and checksum in bytes
   */
  public static int countSketchValuesBytes(int k) {
    return Math.toIntExact(HEADER_BYTES + 4L + k + CRC_BYTES);
  }

  /**
   * The length of a summed count sketch values message (kind 2) of k values.
   *
   * @param k the number of values
   * @return header, f32 values and checksum in bytes
   */
  public static int countSketchSumBytes(int k) {
    return Math.toIntExact(HEADER_BYTES + 4L * k + CRC_BYTES);
  }

  /**
   * Fills in the header of a count sketch table message whose r f32 row scales and {@code r * c}
   * int8 buckets (row-major) are already in place after the header, and seals it with the checksum.
   *
   * @param message {@link #countSketchMessageBytes} bytes
   * @param n the gradient dimension
   * @param step the step number
   * @param seedFingerprint {@link #seedFingerprint} of the job's seed
   * @param rows r
   * @param columns c
   * @param topK k
   * @return {@code message}
   * @throws IllegalArgumentException if the buffer does not have the sketch's length
   */
  public static byte[] sealCountSketch(byte[] message, int n, long step, long seedFingerprint, int rows, int columns, int topK) {
    return sealCountSketch(message, n, step, seedFingerprint, rows, columns, topK, COUNT_SKETCH_TABLE);
  }

  /**
   * Fills in the header of a count sketch message of either kind (the body, {@code r * c} table
   * buckets or {@code k} values, little-endian f32, already in place) and seals it.
   *
   * @param message the message, of {@link #countSketchMessageBytes}, {@link #countSketchValuesBytes}
   *     or {@link #countSketchSumBytes} bytes by kind
   * @param n the gradient dimension
   * @param step the step number
   * @param seedFingerprint {@link #seedFingerprint} of the job's seed
   * @param rows r
   * @param columns c
   * @param topK k
   * @param kind {@link #COUNT_SKETCH_TABLE}, {@link #COUNT_SKETCH_VALUES} or {@link #COUNT_SKETCH_SUM}
   * @return {@code message}
   * @throws IllegalArgumentException if the buffer does not have the kind's length
   */
  public static byte[] sealCountSketch(byte[] message, int n, long step, long seedFingerprint, int rows, int columns, int topK,
      int kind) {
    long expected = kind == COUNT_SKETCH_VALUES ? countSketchValuesBytes(topK)
        : kind == COUNT_SKETCH_SUM ? countSketchSumBytes(topK) : countSketchMessageBytes(rows, columns);
    if (message.length != expected) {
      throw new IllegalArgumentException("a count sketch message of kind " + kind + " (" + rows + " x " + columns + ", k " + topK
          + ") is " + expected + " bytes, got " + message.length);
    }
    message[COUNT_SKETCH_KIND_OFFSET] = (byte) kind;
    writeCommonHeader(message, GradientEncoding.COUNT_SKETCH, n, step, seedFingerprint);
    ByteBuffer h = ByteBuffer.wrap(message).order(ByteOrder.LITTLE_ENDIAN);
    message[COUNT_SKETCH_ROWS_OFFSET] = (byte) rows;
    message[COUNT_SKETCH_KIND_OFFSET] = (byte) kind;
    h.putInt(COUNT_SKETCH_COLUMNS_OFFSET, columns);
    h.putInt(COUNT_SKETCH_TOP_K_OFFSET, topK);
    return seal(message);
  }

  /**
   * The seed fingerprint written into every message of a job: the first SplitMix64 output of its seed.
   *
   * @param seed the job's seed
   * @return the fingerprint
   */
  public static long seedFingerprint(long seed) {
    return new SplitMix64(seed).nextLong();
  }

  /**
   * The sum of squares of {@code g[0..n)} in the specified order that makes clipping bit-identical
   * on every kernel path and device: below {@code n - n % 16}, element {@code i} goes to float lane
   * {@code i % 16} as {@code fma(g[i], g[i], lane)}; the lanes restart every 1024 elements, and
   * after each such chunk they are added in lane order to a double total; the remaining elements'
   * squares are added in double in index order.
   *
   * @param g the values
   * @param n how many, at most {@code g.length}
   * @return the sum, non-finite if any element is NaN or infinite
   */
  public static double sumOfSquares(float[] g, int n) {
    Objects.requireNonNull(g, "g");
    Objects.checkFromIndexSize(0, n, g.length);
    return ScalarCompressionKernels.laneSumOfSquares(g, n);
  }

  /**
   * Writes the header fields every encoding shares (magic, version, encoding, dimension, step,
   * seed fingerprint) into {@code message}.
   *
   * @param message the message buffer, at least {@link #HEADER_BYTES} long
   * @param encoding the encoding
   * @param n the gradient dimension
   * @param step the step number
   * @param seedFingerprint {@link #seedFingerprint} of the job's seed
   */
  public static void writeCommonHeader(byte[] message, GradientEncoding encoding, int n, long step, long seedFingerprint) {
    ByteBuffer h = ByteBuffer.wrap(message).order(ByteOrder.LITTLE_ENDIAN);
    h.putInt(MAGIC_OFFSET, MAGIC);
    message[VERSION_OFFSET] = (byte) VERSION;
    message[ENCODING_OFFSET] = (byte) encoding.wireId();
    h.putInt(DIMENSION_OFFSET, n);
    h.putLong(STEP_OFFSET, step);
    h.putLong(SEED_FINGERPRINT_OFFSET, seedFingerprint);
  }

  /**
   * Fills in the header of a VSA sketch message whose {@code ceil(m / 4)} packed trit bytes are
   * already in place after the header, and seals it with the checksum.
   *
   * @param message {@link #HEADER_BYTES} + {@code ceil(m / 4)} + {@link #CRC_BYTES} bytes
   * @param n the gradient dimension
   * @param step the step number
   * @param seedFingerprint {@link #seedFingerprint} of the job's seed
   * @param m the hypervector dimension
   * @param scale the decoded magnitude of a non-zero trit
   * @return {@code message}
   * @throws IllegalArgumentException if the buffer does not have the sketch's length
   */
  public static byte[] sealSketch(byte[] message, int n, long step, long seedFingerprint, int m, float scale) {
    if (message.length != sketchMessageBytes(m)) {
      throw new IllegalArgumentException("a VSA sketch of " + m + " buckets is " + sketchMessageBytes(m) + " bytes, got " + message.length);
    }
    writeCommonHeader(message, GradientEncoding.VSA_SKETCH, n, step, seedFingerprint);
    ByteBuffer h = ByteBuffer.wrap(message).order(ByteOrder.LITTLE_ENDIAN);
    h.putInt(SKETCH_DIMENSION_OFFSET, m);
    h.putFloat(SKETCH_SCALE_OFFSET, scale);
    return seal(message);
  }

  /**
   * The length of a VSA sketch message of {@code m} buckets.
   *
   * @param m the hypervector dimension
   * @return header, packed trits and checksum in bytes
   */
  public static int sketchMessageBytes(int m) {
    return HEADER_BYTES + ((m + 3) >>> 2) + CRC_BYTES;
  }

  /**
   * Writes the CRC32C of everything before the last {@link #CRC_BYTES} bytes into them.
   *
   * @param message a complete message
   * @return {@code message}
   */
  public static byte[] seal(byte[] message) {
    ByteBuffer.wrap(message).order(ByteOrder.LITTLE_ENDIAN).putInt(message.length - CRC_BYTES, checksum(message));
    return message;
  }

  /** The CRC32C of a message without its checksum field. */
  static int checksum(byte[] message) {
    CRC32C crc = new CRC32C();
    crc.update(message, 0, message.length - CRC_BYTES);
    return (int) crc.getValue();
  }
}
