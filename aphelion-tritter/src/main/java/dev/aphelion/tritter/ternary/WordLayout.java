package dev.aphelion.tritter.ternary;

import java.util.Arrays;

/**
 * A second in-memory arrangement of a {@link PackedTernary}'s weights, derived from it on first use
 * by the 256-bit int8 kernels (never serialized; the exchange format and {@link PackedTernary}'s own
 * layout are unchanged): columns across the lanes of 16-bit words, rows one after the other.
 *
 * <p>Every scale group of a row is padded with zero weights to a multiple of {@value #BLOCK_COLS}
 * columns ("blocks"). A block of one row is {@value #LANES} 16-bit words; word {@code l} holds the
 * weights of columns {@code 16*j + l} of the block ({@code j = 0..7}) as 2-bit codes {@code weight +
 * 1} at bits {@code 2j..2j+1} ({@code 00} = -1, {@code 01} = 0, {@code 10} = +1, as llama.cpp's
 * TQ2_0), so that {@code (word >>> 2j) & 3} is the code, one 16-lane multiply by 16 consecutive
 * int8 activations widened to shorts gives 16 exact products {@code code * x}, and the sum of the
 * activations, subtracted once per segment, turns their sum into the sum of {@code weight * x}.
 *
 * <p>Rows come in tiles of {@value #TILE_ROWS}, tiles in spans of {@value #SPAN_TILES}. Each row is
 * cut into segments: runs of at most {@value #SEGMENT_BLOCKS} blocks inside one group (the 16-bit
 * partial sums of a segment cannot overflow: 8 blocks x 8 fields x 2 x 127 = 16256). The words are
 * ordered span by span, within a span segment by segment, within a segment tile by tile, then block
 * by block and row by row, so a kernel that walks a span segment by segment (one segment's
 * activations stay in L1 for all the span's tiles) reads the weights strictly sequentially.
 */
final class WordLayout {

  /** 16-bit lanes of one 256-bit vector. */
  static final int LANES = 16;
  /** Weights per 16-bit word. */
  static final int FIELDS = 8;
  /** Columns per block: one vector of words. */
  static final int BLOCK_COLS = LANES * FIELDS;
  /** Rows of one tile (their words are interleaved block by block). */
  static final int TILE_ROWS = 4;
  /** Tiles of one span (the unit of work handed to a thread). */
  static final int SPAN_TILES = 16;
  /** Rows of one span. */
  static final int SPAN_ROWS = TILE_ROWS * SPAN_TILES;
  /** A word of 8 zero weights (code 01 in every field). */
  static final short ZEROS = 0x5555;
  /** Most blocks of one segment. */
  static final int SEGMENT_BLOCKS = 8;

  private final int rows;
  private final int tiles;
  private final int blocksPerRow;
  private final int[] groupBlock0; // first block of each group, and blocksPerRow at the end
  private final int[] segBlock0; // first block of each segment
  private final int[] segBlocks; // blocks of each segment
  private final int[] segGroup; // group of each segment
  private final short[] words;

  private WordLayout(PackedTernary w) {
    this.rows = w.rows();
    this.tiles = PackedTernary.ceilDiv(rows, TILE_ROWS);
    int groups = w.groupsPerRow();
    groupBlock0 = new int[groups + 1];
    int segments = 0;
    for (int g = 0; g < groups; g++) {
      int blocks = PackedTernary.ceilDiv(w.colsInGroup(g), BLOCK_COLS);
      groupBlock0[g + 1] = groupBlock0[g] + blocks;
      segments += PackedTernary.ceilDiv(blocks, SEGMENT_BLOCKS);
    }
    blocksPerRow = groupBlock0[groups];
    segBlock0 = new int[segments];
    segBlocks = new int[segments];
    segGroup = new int[segments];
    int s = 0;
    for (int g = 0; g < groups; g++) {
      for (int b = groupBlock0[g]; b < groupBlock0[g + 1]; b += SEGMENT_BLOCKS) {
        segBlock0[s] = b;
        segBlocks[s] = Math.min(SEGMENT_BLOCKS, groupBlock0[g + 1] - b);
        segGroup[s] = g;
        s++;
      }
    }
    words = new short[Math.multiplyExact(Math.multiplyExact(tiles * TILE_ROWS, blocksPerRow), LANES)];
    Arrays.fill(words, ZEROS);
    fill(w);
  }

  /**
   * Whether this arrangement is worth using for {@code w}: padding every group to {@value
   * #BLOCK_COLS} columns must not grow the weights by more than a quarter (plus one block), which
   * rules out small groups (a group of 4 columns would take 32 times the memory).
   */
  static boolean suits(PackedTernary w) {
    long padded = 0;
    for (int g = 0; g < w.groupsPerRow(); g++) {
      padded += (long) PackedTernary.ceilDiv(w.colsInGroup(g), BLOCK_COLS) * BLOCK_COLS;
    }
    return padded <= w.cols() + w.cols() / 4 + BLOCK_COLS && padded * w.rows() < Integer.MAX_VALUE / 2;
  }

  /** The arrangement of {@code w}, derived once and kept with it. */
  static WordLayout of(PackedTernary w) {
    Object cached = w.kernelLayout();
    if (cached instanceof WordLayout l) {
      return l;
    }
    WordLayout l = new WordLayout(w);
    w.kernelLayout(l);
    return l;
  }

  private void fill(PackedTernary w) {
    byte[] nib = w.nibbles();
    int groups = w.groupsPerRow();
    int qpg = w.quadsPerGroup();
    for (int r = 0; r < rows; r++) {
      int blk = r / PackedTernary.BLOCK_ROWS;
      int inBlk = r % PackedTernary.BLOCK_ROWS;
      for (int g = 0; g < groups; g++) {
        int len = w.colsInGroup(g);
        for (int q = 0; q < PackedTernary.ceilDiv(len, 4); q++) {
          int v = nib[w.quadOffset(blk, g * qpg + q) + inBlk];
          if (v == 0) {
            continue;
          }
          for (int j = 0; j < 4; j++) {
            int t = ((v >>> j) & 1) - ((v >>> (j + 4)) & 1);
            if (t != 0) {
              int c = 4 * q + j; // column within the group
              int b = groupBlock0[g] + c / BLOCK_COLS;
              int inB = c % BLOCK_COLS;
              int idx = wordIndex(r, b) + inB % LANES;
              // from code 01 (weight 0) to 10 (+1) or 00 (-1)
              words[idx] ^= (short) ((t > 0 ? 3 : 1) << (2 * (inB / LANES)));
            }
          }
        }
      }
    }
  }

  /** Index of the first word of (row, block). */
  private int wordIndex(int r, int block) {
    int tile = r / TILE_ROWS;
    int span = tile / SPAN_TILES;
    int tileInSpan = tile - span * SPAN_TILES;
    int seg = segmentOf(block);
    return segmentBase(span, seg) + (tileInSpan * segBlocks[seg] + (block - segBlock0[seg])) * TILE_ROWS * LANES
        + (r % TILE_ROWS) * LANES;
  }

  private int segmentOf(int block) {
    int lo = 0;
    int hi = segBlock0.length - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (segBlock0[mid] <= block) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  /**
   * Where segment {@code seg} of span {@code span} starts: its tiles follow one another, each
   * {@code segBlocks(seg) * TILE_ROWS * LANES} words.
   */
  int segmentBase(int span, int seg) {
    return (span * SPAN_TILES * blocksPerRow + tilesInSpan(span) * segBlock0[seg]) * TILE_ROWS * LANES;
  }

  int rows() {
    return rows;
  }

  int tiles() {
    return tiles;
  }

  int spans() {
    return PackedTernary.ceilDiv(tiles, SPAN_TILES);
  }

  int tilesInSpan(int span) {
    return Math.min(SPAN_TILES, tiles - span * SPAN_TILES);
  }

  int blocksPerRow() {
    return blocksPerRow;
  }

  /** Padded columns of a row: where activations are laid out for the kernels. */
  int paddedCols() {
    return blocksPerRow * BLOCK_COLS;
  }

  /** First padded column of group {@code g}. */
  int groupCol0(int g) {
    return groupBlock0[g] * BLOCK_COLS;
  }

  int segments() {
    return segBlock0.length;
  }

  int segBlock0(int seg) {
    return segBlock0[seg];
  }

  int segBlocks(int seg) {
    return segBlocks[seg];
  }

  int segGroup(int seg) {
    return segGroup[seg];
  }

  short[] words() {
    return words;
  }

  /** Bytes of the derived words. */
  long memoryBytes() {
    return 2L * words.length;
  }
}
