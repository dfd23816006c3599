package dev.aphelion.tritter.io;

import dev.aphelion.core.error.SerializationException;
import java.util.Arrays;
import java.util.Objects;

/**
 * One entry of a safetensors header.
 *
 * @param name the tensor name
 * @param dtype the element type
 * @param shape the dimensions, outermost first; empty for a scalar
 * @param begin the first byte, relative to the start of the data section
 * @param end one past the last byte, relative to the start of the data section
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {

  /**
   * Validates the entry: non-negative dimensions, {@code begin <= end}, and a byte length that
   * matches the shape.
   *
   * @throws SerializationException naming the tensor if the entry is inconsistent
   */
  public TensorInfo {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dtype, "dtype");
    shape = shape.clone();
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new SerializationException("tensor '" + name + "' has a negative dimension in shape " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    if (begin < 0 || end < begin) {
      throw new SerializationException("tensor '" + name + "' has invalid data_offsets [" + begin + ", " + end + "]");
    }
    long expected = Math.multiplyExact(n, dtype.byteSize());
    if (end - begin != expected) {
      throw new SerializationException(
          "tensor '" + name + "' has " + (end - begin) + " bytes but shape " + Arrays.toString(shape)
              + " of " + dtype + " needs " + expected);
    }
  }

  /** A copy of the shape. */
  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** The number of elements (the product of the shape). */
  public long elementCount() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  /** The number of data bytes. */
  public long byteLength() {
    return end - begin;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype
        && Arrays.equals(shape, t.shape) && begin == t.begin && end == t.end;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
  }

  @Override
  public String toString() {
    return name + ":" + dtype + Arrays.toString(shape) + "@[" + begin + "," + end + ")";
  }
}
