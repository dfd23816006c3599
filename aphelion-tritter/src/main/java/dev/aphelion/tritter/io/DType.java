package dev.aphelion.tritter.io;

import dev.aphelion.core.error.SerializationException;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The safetensors element types of whole bytes (the reference implementation's list, without its
 * sub-byte {@code F4} and {@code F6} types). Aphelion reads all of them as raw bytes; {@link #F32},
 * {@link #F16}, {@link #BF16}, {@link #F8_E4M3} and {@link #F8_E5M2} also convert to {@code float}
 * on reading, and {@link #U8} carries packed ternary weights (see docs/formats.md, "Safetensors
 * conventions").
 */
public enum DType {
  /** Boolean, one byte. */
  BOOL(1),
  /** Unsigned 8-bit integer. */
  U8(1),
  /** Signed 8-bit integer. */
  I8(1),
  /** 8-bit float, 4 exponent and 3 mantissa bits, no infinities (OCP FP8 {@code E4M3FN}). */
  F8_E4M3(1),
  /** 8-bit float, 5 exponent and 2 mantissa bits (the upper byte of an IEEE binary16). */
  F8_E5M2(1),
  /** 8-bit power of two, the exponent-only scale type of OCP microscaling ({@code E8M0}). */
  F8_E8M0(1),
  /** Signed 16-bit integer. */
  I16(2),
  /** Unsigned 16-bit integer. */
  U16(2),
  /** IEEE 754 binary16. */
  F16(2),
  /** bfloat16: the upper half of an IEEE 754 binary32. */
  BF16(2),
  /** Signed 32-bit integer. */
  I32(4),
  /** Unsigned 32-bit integer. */
  U32(4),
  /** IEEE 754 binary32. */
  F32(4),
  /** IEEE 754 binary64. */
  F64(8),
  /** Complex number of two IEEE 754 binary32 (real, imaginary). */
  C64(8),
  /** Signed 64-bit integer. */
  I64(8),
  /** Unsigned 64-bit integer. */
  U64(8);

  private final int bytes;

  DType(int bytes) {
    this.bytes = bytes;
  }

  /** Bytes per element. */
  public int byteSize() {
    return bytes;
  }

  /**
   * Whether {@link SafeTensorsWriter#addFloats} can store floats as this type ({@link
   * SafeTensorsFile#floats} also reads {@link #F8_E4M3} and {@link #F8_E5M2}).
   *
   * @return {@code true} for F32, F16 and BF16
   */
  public boolean isFloatConvertible() {
    return this == F32 || this == F16 || this == BF16;
  }

  /**
   * Parses the header spelling of a dtype.
   *
   * @param name the dtype string from the header, for example {@code "BF16"}
   * @param tensor the tensor it belongs to, for the error message
   * @return the dtype
   * @throws SerializationException naming the tensor and the known dtypes if {@code name} is unknown
   */
  public static DType parse(String name, String tensor) {
    for (DType d : values()) {
      if (d.name().equals(name)) {
        return d;
      }
    }
    throw new SerializationException(
        "tensor '" + tensor + "' has unknown dtype '" + name + "' (known: "
            + Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", ")) + ")");
  }
}
