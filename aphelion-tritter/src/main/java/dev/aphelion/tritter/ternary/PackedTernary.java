package dev.aphelion.tritter.ternary;

import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.error.ShapeException;
import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable {@code [rows][cols]} ternary matrix (weights in {-1, 0, +1}) stored at 2 bits per
 * weight, with one f32 scale per row or per group of {@code groupSize} consecutive columns of a row.
 * The value of element {@code (r, c)} is {@code trit(r, c) * scale(r, c / groupSize)}. Group scales
 * are kept as they are; they are never averaged into a row scale.
 *
 * <h2>Layouts</h2>
 *
 * <p>The exchange format is tritter-accel's: {@link #toTritterBytes()} / {@link #fromTritterBytes}
 * (row-major, {@code ceil(cols/4)} bytes per row, trit {@code c} at bits {@code 2*(c%4)} of byte
 * {@code c/4}, codes {@code 00}=0, {@code 01}=+1, {@code 10}=-1; code {@code 11} is rejected).
 *
 * <p>Inside, the matrix uses the layout the table-lookup kernels want: rows are cut into blocks of
 * {@value #BLOCK_ROWS}; every scale group of a row is cut into "quads" of 4 columns (the last quad of
 * a group is padded with zero weights, so a quad never straddles two groups); and for each (row
 * block, quad) there are {@value #BLOCK_ROWS} consecutive bytes, one per row, holding the +1 mask of
 * the quad's 4 weights in the low nibble and the -1 mask in the high nibble (bit {@code j} of a
 * nibble is column {@code 4*quad + j} of the group). These 32-byte pieces are ordered span by span
 * ({@value #SPAN_BLOCKS} row blocks), within a span chunk by chunk ({@value #CHUNK_QUADS} quads),
 * within a chunk block by block, then quad by quad. Scales are stored per (row block, group) as
 * {@value #BLOCK_ROWS} consecutive floats. Rows past {@code rows} are padding with zero weights and
 * zero scales. See {@code docs/formats.md}, "Packed ternary weights".
 */
public final class PackedTernary {

  /** Rows per interleaved row block of the internal layout. */
  public static final int BLOCK_ROWS = 32;
  /** Row blocks per span of the internal layout (kernels split rows across threads by span). */
  static final int SPAN_BLOCKS = 8;
  /** Quads per column chunk of the internal layout: 128 quads of int8 tables are 8 KiB. */
  static final int CHUNK_QUADS = 128;

  private final int rows;
  private final int cols;
  private final int groupSize;
  private final int groups; // scale groups per row
  private final int quadsPerGroup; // quads of a full group
  private final int quadsPerRow; // all quads of a row, the last group possibly shorter
  private final int rowBlocks;
  private final byte[] nibbles; // [rowBlock][quad][BLOCK_ROWS]
  private final float[] blockScales; // [rowBlock][group][BLOCK_ROWS]
  /** A kernel's own arrangement of the weights, derived on first use (see WordLayout); never serialized. */
  private volatile Object kernelLayout;
  /** The index bytes of the activation-parallel table kernel (see LutLayout), derived on first use; never serialized. */
  private volatile Object lutLayout;

  private PackedTernary(int rows, int cols, int groupSize) {
    this.rows = rows;
    this.cols = cols;
    this.groupSize = groupSize;
    this.groups = ceilDiv(cols, groupSize);
    this.quadsPerGroup = ceilDiv(groupSize, 4);
    int lastGroupLen = cols - (groups - 1) * groupSize;
    this.quadsPerRow = (groups - 1) * quadsPerGroup + ceilDiv(lastGroupLen, 4);
    this.rowBlocks = ceilDiv(rows, BLOCK_ROWS);
    this.nibbles = new byte[Math.multiplyExact(Math.multiplyExact(rowBlocks, quadsPerRow), BLOCK_ROWS)];
    this.blockScales = new float[Math.multiplyExact(Math.multiplyExact(rowBlocks, groups), BLOCK_ROWS)];
  }

  /**
   * Packs a row-major matrix of trits.
   *
   * @param trits {@code rows * cols} values, each -1, 0 or 1, row-major
   * @param rows number of rows (output features), at least 1
   * @param cols number of columns (input features), at least 1
   * @param scales {@code rows * ceil(cols / groupSize)} finite scales, row-major ({@code [row][group]})
   * @param groupSize columns per scale group; {@code cols} for one scale per row. The last group of a
   *     row may be shorter.
   * @return the packed matrix
   * @throws ShapeException if a dimension, the array lengths, a trit or a scale is invalid
   */
  public static PackedTernary fromTrits(byte[] trits, int rows, int cols, float[] scales, int groupSize) {
    Objects.requireNonNull(trits, "trits");
    checkShape(rows, cols, scales, groupSize);
    if (trits.length != (long) rows * cols) {
      throw new ShapeException("trits has length " + trits.length + " but rows*cols = " + rows + "*" + cols + " = " + (long) rows * cols);
    }
    PackedTernary p = new PackedTernary(rows, cols, groupSize);
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        byte t = trits[r * cols + c];
        if (t < -1 || t > 1) {
          throw new ShapeException("trit at index " + (r * cols + c) + " (row " + r + ", col " + c + ") is " + t + ", expected -1, 0 or 1");
        }
        p.set(r, c, t);
      }
    }
    p.setScales(scales);
    return p;
  }

  /**
   * Reads tritter-accel's packed byte format: {@code ceil(cols/4)} bytes per row, each row starting
   * on a byte boundary, trit {@code c} at bits {@code 2*(c%4)..2*(c%4)+1} of byte {@code c/4}
   * (least significant first), codes {@code 00}=0, {@code 01}=+1, {@code 10}=-1.
   *
   * <p>Code {@code 11} is never written by a correct encoder, so it is rejected (tritter-accel
   * silently decodes it as 0), as are non-zero padding bits after the last column of a row.
   *
   * @param bytes {@code rows * ceil(cols/4)} bytes
   * @param rows number of rows, at least 1
   * @param cols number of columns, at least 1
   * @param scales {@code rows * ceil(cols / groupSize)} finite scales, row-major
   * @param groupSize columns per scale group ({@code cols} for one scale per row)
   * @return the packed matrix
   * @throws ShapeException if a dimension or array length is wrong
   * @throws SerializationException if a byte holds code {@code 11} or non-zero padding
   */
  public static PackedTernary fromTritterBytes(byte[] bytes, int rows, int cols, float[] scales, int groupSize) {
    Objects.requireNonNull(bytes, "bytes");
    checkShape(rows, cols, scales, groupSize);
    int bpr = ceilDiv(cols, 4);
    if (bytes.length != (long) rows * bpr) {
      throw new ShapeException("tritter bytes have length " + bytes.length + " but rows*ceil(cols/4) = " + rows + "*" + bpr + " = " + (long) rows * bpr);
    }
    PackedTernary p = new PackedTernary(rows, cols, groupSize);
    for (int r = 0; r < rows; r++) {
      for (int b = 0; b < bpr; b++) {
        int v = bytes[r * bpr + b] & 0xFF;
        for (int j = 0; j < 4; j++) {
          int code = (v >>> (2 * j)) & 3;
          int c = 4 * b + j;
          if (code == 3) {
            throw new SerializationException("tritter byte " + (r * bpr + b) + " (row " + r + ", col " + c + ") holds the invalid trit code 11");
          }
          if (c >= cols) {
            if (code != 0) {
              throw new SerializationException("tritter byte " + (r * bpr + b) + " (row " + r + ") has non-zero padding bits after column " + (cols - 1));
            }
            continue;
          }
          if (code != 0) {
            p.set(r, c, code == 1 ? 1 : -1);
          }
        }
      }
    }
    p.setScales(scales);
    return p;
  }

  private static void checkShape(int rows, int cols, float[] scales, int groupSize) {
    Objects.requireNonNull(scales, "scales");
    if (rows < 1 || cols < 1) {
      throw new ShapeException("matrix shape must be at least 1x1, got " + rows + "x" + cols);
    }
    if (groupSize < 1) {
      throw new ShapeException("groupSize must be at least 1, got " + groupSize);
    }
    if (groupSize > cols) {
      throw new ShapeException("groupSize " + groupSize + " exceeds cols " + cols + " (use groupSize = cols for one scale per row)");
    }
    long expected = (long) rows * ceilDiv(cols, groupSize);
    if (scales.length != expected) {
      throw new ShapeException("scales has length " + scales.length + " but a " + rows + "x" + cols + " matrix with groupSize " + groupSize + " needs " + expected);
    }
    for (int i = 0; i < scales.length; i++) {
      if (!Float.isFinite(scales[i])) {
        throw new ShapeException("scale at index " + i + " is " + scales[i] + ", expected a finite value");
      }
    }
  }

  private void set(int r, int c, int t) {
    if (t == 0) {
      return;
    }
    int g = c / groupSize;
    int within = c - g * groupSize;
    int quad = g * quadsPerGroup + (within >>> 2);
    int bit = within & 3;
    int idx = nibbleIndex(r, quad);
    nibbles[idx] |= (byte) (t > 0 ? 1 << bit : 1 << (bit + 4));
  }

  private void setScales(float[] scales) {
    for (int r = 0; r < rows; r++) {
      for (int g = 0; g < groups; g++) {
        blockScales[((r / BLOCK_ROWS) * groups + g) * BLOCK_ROWS + (r % BLOCK_ROWS)] = scales[r * groups + g];
      }
    }
  }

  private int nibbleIndex(int r, int quad) {
    return quadOffset(r / BLOCK_ROWS, quad) + (r % BLOCK_ROWS);
  }

  /**
   * Where the {@value #BLOCK_ROWS} bytes of (row block, quad) start: spans of {@value #SPAN_BLOCKS}
   * row blocks, each cut into chunks of {@value #CHUNK_QUADS} quads, each chunk holding its blocks
   * one after the other. A kernel that walks a span chunk by chunk (so that one chunk's activation
   * tables stay in L1 for all the span's blocks) then reads the weights strictly sequentially.
   */
  int quadOffset(int blk, int quad) {
    int span = blk / SPAN_BLOCKS;
    int blockInSpan = blk - span * SPAN_BLOCKS;
    int blocksInSpan = Math.min(SPAN_BLOCKS, rowBlocks - span * SPAN_BLOCKS);
    int chunk = quad / CHUNK_QUADS;
    int quadInChunk = quad - chunk * CHUNK_QUADS;
    int chunkLen = Math.min(CHUNK_QUADS, quadsPerRow - chunk * CHUNK_QUADS);
    return (span * SPAN_BLOCKS * quadsPerRow + chunk * CHUNK_QUADS * blocksInSpan + blockInSpan * chunkLen + quadInChunk) * BLOCK_ROWS;
  }

  /** Number of rows (output features). */
  public int rows() {
    return rows;
  }

  /** Number of columns (input features). */
  public int cols() {
    return cols;
  }

  /** Columns per scale group; equals {@link #cols()} when there is one scale per row. */
  public int groupSize() {
    return groupSize;
  }

  /** Scale groups per row: {@code ceil(cols / groupSize)}. */
  public int groupsPerRow() {
    return groups;
  }

  /** A copy of the scales, row-major {@code [row][group]}, {@code rows * groupsPerRow()} values. */
  public float[] scales() {
    float[] out = new float[rows * groups];
    for (int r = 0; r < rows; r++) {
      for (int g = 0; g < groups; g++) {
        out[r * groups + g] = scale(r, g);
      }
    }
    return out;
  }

  /**
   * The scale of one group of one row.
   *
   * @param row the row
   * @param group the group, {@code 0 <= group < groupsPerRow()}
   * @return the scale
   */
  public float scale(int row, int group) {
    Objects.checkIndex(row, rows);
    Objects.checkIndex(group, groups);
    return blockScales[((row / BLOCK_ROWS) * groups + group) * BLOCK_ROWS + (row % BLOCK_ROWS)];
  }

  /**
   * One weight.
   *
   * @param row the row
   * @param col the column
   * @return -1, 0 or 1
   */
  public int trit(int row, int col) {
    Objects.checkIndex(row, rows);
    Objects.checkIndex(col, cols);
    int g = col / groupSize;
    int within = col - g * groupSize;
    int quad = g * quadsPerGroup + (within >>> 2);
    int bit = within & 3;
    int v = nibbles[nibbleIndex(row, quad)];
    return ((v >>> bit) & 1) - ((v >>> (bit + 4)) & 1);
  }

  /** All weights as a new row-major array of -1, 0 and 1. */
  public byte[] toTrits() {
    byte[] out = new byte[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        out[r * cols + c] = (byte) trit(r, c);
      }
    }
    return out;
  }

  /** The weights in tritter-accel's byte format (see {@link #fromTritterBytes}); scales are not included. */
  public byte[] toTritterBytes() {
    int bpr = ceilDiv(cols, 4);
    byte[] out = new byte[rows * bpr];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int t = trit(r, c);
        if (t != 0) {
          out[r * bpr + c / 4] |= (byte) ((t > 0 ? 1 : 2) << (2 * (c % 4)));
        }
      }
    }
    return out;
  }

  /**
   * Bytes held by the weight and scale arrays (array headers excluded): 2 bits per weight of the
   * padded layout plus 4 bytes per scale of the padded row blocks. Not counted: an arrangement a
   * kernel derives on first use and keeps with the weights (the 256-bit int8 kernel's, about 2 more
   * bits per weight, see {@code WordLayout}).
   */
  public long memoryBytes() {
    return (long) nibbles.length + 4L * blockScales.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PackedTernary p
        && rows == p.rows
        && cols == p.cols
        && groupSize == p.groupSize
        && Arrays.equals(nibbles, p.nibbles)
        && Arrays.equals(blockScales, p.blockScales);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * (31 * rows + cols) + groupSize) + Arrays.hashCode(nibbles) * 17 + Arrays.hashCode(blockScales);
  }

  @Override
  public String toString() {
    return "PackedTernary[" + rows + "x" + cols + ", groupSize=" + groupSize + ", " + memoryBytes() + " bytes]";
  }

  // ---- layout accessors for the kernels of this package ----

  int quadsPerGroup() {
    return quadsPerGroup;
  }

  int quadsPerRow() {
    return quadsPerRow;
  }

  int rowBlocks() {
    return rowBlocks;
  }

  int spans() {
    return ceilDiv(rowBlocks, SPAN_BLOCKS);
  }

  /** The quads of group {@code g}: full groups have {@link #quadsPerGroup()}, the last may have fewer. */
  int quadsInGroup(int g) {
    return g < groups - 1 ? quadsPerGroup : quadsPerRow - (groups - 1) * quadsPerGroup;
  }

  /** Columns of group {@code g}. */
  int colsInGroup(int g) {
    return g < groups - 1 ? groupSize : cols - (groups - 1) * groupSize;
  }

  /** The arrangement a kernel derived from these weights, or {@code null}. */
  Object kernelLayout() {
    return kernelLayout;
  }

  /** Keeps a kernel's derived arrangement (two threads may race to set equal ones: harmless). */
  void kernelLayout(Object layout) {
    kernelLayout = layout;
  }

  /** The activation-parallel table kernel's derived arrangement, or {@code null}. */
  Object lutLayout() {
    return lutLayout;
  }

  /** Keeps the activation-parallel table kernel's arrangement (a race sets equal ones: harmless). */
  void lutLayout(Object layout) {
    lutLayout = layout;
  }

  byte[] nibbles() {
    return nibbles;
  }

  float[] blockScales() {
    return blockScales;
  }

  static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }
}
