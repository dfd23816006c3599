package dev.aphelion.cuda.ternary;

import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.error.ShapeException;
import java.util.Objects;

/**
 * The GPU weight layout of aphelion-cuda ("tile layout") and its conversion from and to the
 * tritter byte format (2 bits per trit, {@code 00}=0, {@code 01}=+1, {@code 10}=-1, least
 * significant first, rows starting on a byte boundary; code {@code 11} is rejected as corrupt). Pure Java, so that the layout is tested
 * without a GPU; the kernels {@code aph_pack_from_tritter}/{@code aph_unpack_to_tritter} do the
 * same on the device.
 *
 * <p>Rows are padded to a multiple of {@value #ROW_ALIGN}, columns to a multiple of {@value
 * #K_BLOCK}. A tile is 8 rows by 256 columns in {@value #TILE_WORDS} 32-bit words; tiles are stored
 * row-group major. Inside a tile, word {@code w * 32 + lane} (lane {@code 4r + q}) holds row
 * {@code r} and, in its chunk {@code j} (bits {@code 8b + 2j}, {@code b = 0..3}), the trits of
 * columns {@code 32s + 16h + 4q + b} with {@code s = 2w + j/2}, {@code h = j % 2}, each coded as
 * {@code trit + 1}. Masking a word with {@code 0x03030303 << 2j} therefore yields four byte-sized
 * codes of consecutive columns: the operand of {@code dp4a} and of the int8 {@code mma.sync}
 * m16n8k32 fragments. See docs/formats.md, "GPU layout".
 */
public final class GpuTernaryLayout {

  /** Columns per k block (one tile is 8 rows by this many columns). */
  public static final int K_BLOCK = 256;

  /** Rows are padded to a multiple of this (the m16 tensor-core tile). */
  public static final int ROW_ALIGN = 16;

  /** 32-bit words per tile. */
  public static final int TILE_WORDS = 128;

  private GpuTernaryLayout() {}

  /**
   * Rows after padding.
   *
   * @param rows logical rows
   * @return rows rounded up to {@value #ROW_ALIGN}
   */
  public static int paddedRows(int rows) {
    return (rows + ROW_ALIGN - 1) / ROW_ALIGN * ROW_ALIGN;
  }

  /**
   * Number of 256-column blocks.
   *
   * @param cols logical columns
   * @return {@code ceil(cols / 256)}
   */
  public static int kBlocks(int cols) {
    return (cols + K_BLOCK - 1) / K_BLOCK;
  }

  /**
   * Columns after padding.
   *
   * @param cols logical columns
   * @return columns rounded up to {@value #K_BLOCK}
   */
  public static int paddedCols(int cols) {
    return kBlocks(cols) * K_BLOCK;
  }

  /**
   * Number of 32-bit words of a matrix.
   *
   * @param rows logical rows
   * @param cols logical columns
   * @return the word count
   */
  public static long wordCount(int rows, int cols) {
    return (long) (paddedRows(rows) / 8) * kBlocks(cols) * TILE_WORDS;
  }

  /**
   * Bytes per row of the tritter format.
   *
   * @param cols columns
   * @return {@code ceil(cols / 4)}
   */
  public static int tritterBytesPerRow(int cols) {
    return (cols + 3) / 4;
  }

  /**
   * Index of the word holding element (row, col).
   *
   * @param row the row
   * @param col the column
   * @param kBlocks {@link #kBlocks(int)} of the matrix
   * @return the word index
   */
  public static long wordIndex(int row, int col, int kBlocks) {
    int kb = col / K_BLOCK;
    int kk = col % K_BLOCK;
    int s = kk >> 5;
    int q = (kk >> 2) & 3;
    int lane = 4 * (row & 7) + q;
    return ((long) (row >> 3) * kBlocks + kb) * TILE_WORDS + (s >> 1) * 32 + lane;
  }

  /**
   * Bit offset, inside its word, of the 2-bit code of column {@code col}.
   *
   * @param col the column
   * @return {@code 8b + 2j}
   */
  public static int bitOffset(int col) {
    int kk = col % K_BLOCK;
    int s = kk >> 5;
    int h = (kk >> 4) & 1;
    int b = kk & 3;
    int j = 2 * (s & 1) + h;
    return 8 * b + 2 * j;
  }

  /**
   * Position of column {@code col} in the int8 "lane" activation layout (used by the GEMV and
   * skinny int8 kernels): inside each 256 block, {@code 32s + 16h + 4q + b -> 64q + 8s + 4h + b}.
   *
   * @param col the column
   * @return its storage position
   */
  public static int lanePosition(int col) {
    int kk = col % K_BLOCK;
    int s = kk >> 5;
    int h = (kk >> 4) & 1;
    int q = (kk >> 2) & 3;
    int b = kk & 3;
    return col - kk + 64 * q + 8 * s + 4 * h + b;
  }

  /**
   * Checks tritter bytes the way aphelion-tritter's {@code PackedTernary.fromTritterBytes} does:
   * code {@code 11} and non-zero padding bits after a row's last column mean corrupt data.
   *
   * @param packed {@code rows * ceil(cols / 4)} bytes
   * @param rows rows
   * @param cols columns
   * @throws SerializationException naming the byte, row and column
   */
  public static void validateTritter(byte[] packed, int rows, int cols) {
    int bpr = tritterBytesPerRow(cols);
    int tail = cols & 3;
    for (int r = 0; r < rows; r++) {
      for (int i = 0; i < bpr; i++) {
        int b = packed[r * bpr + i] & 0xff;
        int elevens = b & (b >>> 1) & 0x55;
        if (elevens != 0) {
          int slot = Integer.numberOfTrailingZeros(elevens) / 2;
          throw new SerializationException("ternary byte " + (r * bpr + i) + " (row " + r + ", column "
              + (4 * i + slot) + ") holds the invalid code 11");
        }
        if (i == bpr - 1 && tail != 0 && (b >>> (2 * tail)) != 0) {
          throw new SerializationException("ternary byte " + (r * bpr + i) + " (row " + r
              + ") has non-zero padding bits after column " + (cols - 1));
        }
      }
    }
  }

  /**
   * Converts the tritter byte format to the GPU layout.
   *
   * @param packed {@code rows * ceil(cols / 4)} bytes
   * @param rows rows, at least 1
   * @param cols columns, at least 1
   * @return {@link #wordCount(int, int)} words (padding trits are 0)
   * @throws ShapeException if the shape or the array length is wrong
   * @throws SerializationException if a byte holds code 11 or non-zero padding bits
   */
  public static int[] fromTritter(byte[] packed, int rows, int cols) {
    Objects.requireNonNull(packed, "packed");
    checkShape(rows, cols);
    int bpr = tritterBytesPerRow(cols);
    if (packed.length != (long) rows * bpr) {
      throw new ShapeException(
          "packed ternary " + rows + "x" + cols + " needs " + ((long) rows * bpr) + " bytes, got " + packed.length);
    }
    long n = wordCount(rows, cols);
    if (n > Integer.MAX_VALUE - 8) {
      throw new ShapeException("matrix " + rows + "x" + cols + " is too large for one Java array; upload it in parts");
    }
    validateTritter(packed, rows, cols);
    int kb = kBlocks(cols);
    int[] words = new int[(int) n];
    // Every code starts as 01 (trit 0), so padding needs no second pass.
    java.util.Arrays.fill(words, 0x55555555);
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int code = (packed[r * bpr + (c >> 2)] >> ((c & 3) * 2)) & 3;
        int v = code == 1 ? 2 : code == 2 ? 0 : 1;
        int idx = (int) wordIndex(r, c, kb);
        int off = bitOffset(c);
        words[idx] = (words[idx] & ~(3 << off)) | (v << off);
      }
    }
    return words;
  }

  /**
   * Converts the GPU layout back to the tritter byte format (codes {@code 11} never occur).
   *
   * @param words {@link #wordCount(int, int)} words
   * @param rows rows
   * @param cols columns
   * @return {@code rows * ceil(cols / 4)} bytes
   * @throws ShapeException if the shape or the array length is wrong, or a word holds code 3
   */
  public static byte[] toTritter(int[] words, int rows, int cols) {
    Objects.requireNonNull(words, "words");
    checkShape(rows, cols);
    if (words.length != wordCount(rows, cols)) {
      throw new ShapeException(
          "GPU ternary " + rows + "x" + cols + " needs " + wordCount(rows, cols) + " words, got " + words.length);
    }
    int bpr = tritterBytesPerRow(cols);
    int kb = kBlocks(cols);
    byte[] out = new byte[rows * bpr];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int v = (words[(int) wordIndex(r, c, kb)] >>> bitOffset(c)) & 3;
        if (v == 3) {
          throw new ShapeException("GPU ternary word for (" + r + ", " + c + ") holds the invalid code 3");
        }
        int code = v == 2 ? 1 : v == 0 ? 2 : 0;
        out[r * bpr + (c >> 2)] |= (byte) (code << ((c & 3) * 2));
      }
    }
    return out;
  }

  static void checkShape(int rows, int cols) {
    if (rows < 1 || cols < 1) {
      throw new ShapeException("ternary matrix must be at least 1x1, got " + rows + "x" + cols);
    }
  }
}
