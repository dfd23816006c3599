package dev.aphelion.tritter.io;

/** Conversions between {@code float} and the 16-bit float formats (IEEE binary16, bfloat16). */
public final class Float16 {
  private Float16() {}

  /** Widens a bfloat16 bit pattern to {@code float} (exact). */
  public static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xFFFF) << 16);
  }

  /**
   * Narrows a {@code float} to bfloat16 with round-to-nearest-even; NaN stays a (quiet) NaN.
   *
   * @param f the value
   * @return the bfloat16 bit pattern
   */
  public static short floatToBf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if (Float.isNaN(f)) {
      return (short) ((bits >>> 16) | 0x0040);
    }
    int rounding = 0x7FFF + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

  /** Widens an IEEE binary16 bit pattern to {@code float} (exact). */
  public static float f16ToFloat(short bits) {
    return Float.float16ToFloat(bits);
  }

  /** Narrows a {@code float} to IEEE binary16 with round-to-nearest-even. */
  public static short floatToF16(float f) {
    return Float.floatToFloat16(f);
  }
}
