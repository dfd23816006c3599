package dev.aphelion.examples.fashion;

import java.util.Arrays;

/**
 * The contents of one IDX file of unsigned bytes: its dimensions and its data in row-major order.
 *
 * @param dims the dimensions, outermost first (for example {@code [60000, 28, 28]})
 * @param data the values, row-major; each byte is an unsigned value 0..255
 */
public record IdxArray(int[] dims, byte[] data) {

  /** Copies the arrays so that the record stays immutable from the outside. */
  public IdxArray {
    dims = dims.clone();
    data = data.clone();
  }

  /** The dimensions, outermost first (a copy). */
  @Override
  public int[] dims() {
    return dims.clone();
  }

  /** The data bytes, row-major (a copy). */
  @Override
  public byte[] data() {
    return data.clone();
  }

  /** The number of dimensions. */
  public int rank() {
    return dims.length;
  }

  /**
   * One dimension.
   *
   * @param axis 0 for the outermost
   * @return its size
   */
  public int dim(int axis) {
    return dims[axis];
  }

  /** The number of values (the product of the dimensions). */
  public int size() {
    return data.length;
  }

  /**
   * One value as an unsigned number.
   *
   * @param index the flat row-major index
   * @return the value, 0..255
   */
  public int unsigned(int index) {
    return data[index] & 0xFF;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof IdxArray other
        && Arrays.equals(dims, other.dims)
        && Arrays.equals(data, other.data);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(dims) + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "IdxArray" + Arrays.toString(dims);
  }
}
