package dev.aphelion.tritter.ternary;

import java.util.Arrays;

/**
 * The result of ternary weight quantization: trits, scales and the group size they belong to.
 * Arrays are copied in and out, so instances are immutable.
 *
 * @param trits {@code rows * cols} values in {-1, 0, 1}, row-major
 * @param rows number of rows
 * @param cols number of columns
 * @param scales {@code rows * ceil(cols / groupSize)} scales, row-major {@code [row][group]}
 * @param groupSize columns per scale group ({@code cols} for one scale per row)
 */
public record TernaryQuantized(byte[] trits, int rows, int cols, float[] scales, int groupSize) {

  /** Copies the arrays. */
  public TernaryQuantized {
    trits = trits.clone();
    scales = scales.clone();
  }

  /** A copy of the trits. */
  @Override
  public byte[] trits() {
    return trits.clone();
  }

  /** A copy of the scales. */
  @Override
  public float[] scales() {
    return scales.clone();
  }

  /** Packs the result at 2 bits per weight, keeping every group scale. */
  public PackedTernary toPacked() {
    return PackedTernary.fromTrits(trits, rows, cols, scales, groupSize);
  }

  /** Scale groups per row. */
  public int groupsPerRow() {
    return (cols + groupSize - 1) / groupSize;
  }

  /**
   * The dequantized matrix {@code trit * scale}, row-major.
   *
   * @return a new array of {@code rows * cols} values
   */
  public float[] dequantize() {
    int groups = groupsPerRow();
    float[] out = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        out[r * cols + c] = trits[r * cols + c] * scales[r * groups + c / groupSize];
      }
    }
    return out;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TernaryQuantized q
        && rows == q.rows
        && cols == q.cols
        && groupSize == q.groupSize
        && Arrays.equals(trits, q.trits)
        && Arrays.equals(scales, q.scales);
  }

  @Override
  public int hashCode() {
    return ((Arrays.hashCode(trits) * 31 + Arrays.hashCode(scales)) * 31 + rows * 961 + cols) * 31 + groupSize;
  }

  @Override
  public String toString() {
    return "TernaryQuantized[" + rows + "x" + cols + ", groupSize=" + groupSize + "]";
  }
}
