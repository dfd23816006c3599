package dev.aphelion.tritter.ternary;

/**
 * The arrangement of a {@link PackedTernary}'s weights for the activation-parallel table kernel
 * ({@link PanamaLutKernels}), derived from it on first use (never serialized; the exchange format
 * and {@link PackedTernary}'s own layout are unchanged): one byte per row and quad (4 consecutive
 * columns of one scale group) holding the base-3 index {@code Σ_j (w_j + 1)·3^j} of its four
 * weights, 0..80 ({@value #ZERO} is four zero weights; a ragged last quad of a group has zero
 * weights past the group's end), 2 bits per weight as in {@link PackedTernary}.
 *
 * <p>Quads are cut into chunks of {@value #CHUNK} (the last chunk of a row padded with {@value
 * #ZERO}); the bytes are ordered chunk by chunk, within a chunk row by row, so a kernel that walks
 * one chunk for all its rows reads them strictly sequentially, {@value #CHUNK} bytes a row.
 */
final class LutLayout {

  /** Quads of one chunk: the tables of a chunk are built once per token tile and used by every row. */
  static final int CHUNK = 8;
  /** Table entries per quad: 3^4. */
  static final int ENTRIES = 81;
  /** The index of four zero weights. */
  static final int ZERO = 40;

  /** Base-3 index of each packed nibble byte (low nibble: +1 bits, high nibble: -1 bits). */
  private static final byte[] INDEX = new byte[256];

  static {
    for (int v = 0; v < 256; v++) {
      int idx = 0;
      int p = 1;
      for (int j = 0; j < 4; j++) {
        int t = ((v >>> j) & 1) - ((v >>> (j + 4)) & 1);
        idx += (t + 1) * p;
        p *= 3;
      }
      INDEX[v] = (byte) idx;
    }
  }

  private final int rows;
  private final int chunks;
  private final byte[] indices;

  private LutLayout(PackedTernary w) {
    rows = w.rows();
    int qpr = w.quadsPerRow();
    chunks = PackedTernary.ceilDiv(qpr, CHUNK);
    indices = new byte[Math.multiplyExact(Math.multiplyExact(chunks, rows), CHUNK)];
    byte[] nib = w.nibbles();
    for (int r = 0; r < rows; r++) {
      int blk = r / PackedTernary.BLOCK_ROWS;
      int inBlk = r % PackedTernary.BLOCK_ROWS;
      for (int q = 0; q < chunks * CHUNK; q++) {
        int c = q / CHUNK;
        byte idx = q < qpr ? INDEX[nib[w.quadOffset(blk, q) + inBlk] & 0xFF] : (byte) ZERO;
        indices[(c * rows + r) * CHUNK + q % CHUNK] = idx;
      }
    }
  }

  /** Whether {@code w} fits: the index bytes must be addressable by an int. */
  static boolean fits(PackedTernary w) {
    return (long) PackedTernary.ceilDiv(w.quadsPerRow(), CHUNK) * CHUNK * w.rows() < Integer.MAX_VALUE;
  }

  /** The arrangement of {@code w}, derived once and kept with it. */
  static LutLayout of(PackedTernary w) {
    Object cached = w.lutLayout();
    if (cached instanceof LutLayout l) {
      return l;
    }
    LutLayout l = new LutLayout(w);
    w.lutLayout(l);
    return l;
  }

  int chunks() {
    return chunks;
  }

  /** Where chunk {@code c} of row {@code r} starts in {@link #indices()}. */
  int offset(int c, int r) {
    return (c * rows + r) * CHUNK;
  }

  byte[] indices() {
    return indices;
  }

  /** Bytes of the derived indices. */
  long memoryBytes() {
    return indices.length;
  }
}
