package dev.aphelion.tritter.hf;

import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.ternary.PackedTernary;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Conversions of transformers' BitNet weight forms into the library's {@link PackedTernary}, one
 * scale for the whole tensor as BitNet b1.58 defines it. No f32 copy of a packed tensor is made:
 * trits go from the mapped bytes into a {@code byte[]} of one trit per weight and then into the
 * 2-bit internal layout.
 */
final class BitNetWeights {

  private BitNetWeights() {}

  /**
   * Decodes transformers' {@code pack_weights} layout: a {@code uint8 [out/4, in]} tensor in which
   * byte {@code (j, c)} holds, in bits {@code 2i..2i+1}, code {@code trit + 1} of weight {@code (i·out/4
   * + j, c)}. Code 3 is rejected.
   *
   * @param packed the mapped bytes, {@code (out/4)·in} of them, row-major
   * @param out output features (a multiple of 4)
   * @param in input features
   * @param scale the value of a +1 trit
   * @param name the tensor, for messages
   * @return the matrix
   * @throws SerializationException on code 3
   */
  static PackedTernary unpackTransformers(MemorySegment packed, int out, int in, float scale, String name) {
    int quarter = out / 4;
    if (quarter * 4 != out || packed.byteSize() != (long) quarter * in) {
      throw new ShapeException(name + ": packed weights have " + packed.byteSize() + " bytes, expected (" + out + "/4)·" + in);
    }
    byte[] trits = new byte[Math.multiplyExact(out, in)];
    byte[] row = new byte[in];
    for (int j = 0; j < quarter; j++) {
      MemorySegment.copy(packed, ValueLayout.JAVA_BYTE, (long) j * in, row, 0, in);
      for (int c = 0; c < in; c++) {
        int b = row[c] & 0xFF;
        for (int i = 0; i < 4; i++) {
          int code = (b >>> (2 * i)) & 3;
          if (code == 3) {
            throw new SerializationException(name + ": byte [" + j + ", " + c + "] holds the invalid 2-bit code 3 (bits "
                + 2 * i + ".." + (2 * i + 1) + "); transformers' pack_weights writes trit + 1 in {0, 1, 2}");
          }
          trits[(i * quarter + j) * in + c] = (byte) (code - 1);
        }
      }
    }
    return PackedTernary.fromTrits(trits, out, in, filled(out, scale), in);
  }

  /**
   * Float weights that already are trits ({@code autobitlinear} offline with unpacked weights).
   *
   * @throws SerializationException naming the first weight outside {-1, 0, 1}
   */
  static PackedTernary fromTritFloats(float[] w, int out, int in, float scale, String name) {
    byte[] trits = new byte[w.length];
    for (int i = 0; i < w.length; i++) {
      float v = w[i];
      if (v != -1f && v != 0f && v != 1f) {
        throw new SerializationException(name + ": weight [" + i / in + ", " + i % in + "] is " + v
            + "; with quantization_mode \"offline\" the weights must be ternary (-1, 0, 1) or packed uint8");
      }
      trits[i] = (byte) v;
    }
    return PackedTernary.fromTrits(trits, out, in, filled(out, scale), in);
  }

  /**
   * transformers' {@code WeightQuant} on a master weight tensor, in f32 like it: {@code s = 1 /
   * max(mean|W|, 1e-5)}, {@code trit = clamp(rint(W·s), -1, 1)}, value {@code trit / s}. The mean is
   * summed in double and rounded once (torch sums in f32 pairs; the two agree to an ulp, which moves
   * a trit only for a weight within an ulp of ±0.5/s).
   *
   * @throws ShapeException naming a non-finite weight
   */
  static PackedTernary quantizeMaster(float[] w, int out, int in, String name) {
    double sum = 0;
    for (int i = 0; i < w.length; i++) {
      float v = w[i];
      if (!Float.isFinite(v)) {
        throw new ShapeException(name + ": weight [" + i / in + ", " + i % in + "] is " + v + "; weights must be finite");
      }
      sum += Math.abs(v);
    }
    float mean = (float) (sum / w.length);
    float s = 1f / Math.max(mean, 1e-5f);
    byte[] trits = new byte[w.length];
    for (int i = 0; i < w.length; i++) {
      float r = (float) Math.rint(w[i] * s);
      trits[i] = (byte) Math.max(-1f, Math.min(1f, r));
    }
    return PackedTernary.fromTrits(trits, out, in, filled(out, 1f / s), in);
  }

  private static float[] filled(int rows, float v) {
    float[] s = new float[rows];
    Arrays.fill(s, v);
    return s;
  }
}
