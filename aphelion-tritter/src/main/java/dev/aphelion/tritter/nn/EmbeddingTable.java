package dev.aphelion.tritter.nn;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.kernel.RowPool;
import java.util.Arrays;


/**
 * A {@code [vocab, hidden]} table used as the token embedding (row lookup) and, tied or not, as the
 * output head (logits = table · x). Stored either as f32 or as int8 with one f32 scale per row
 * ({@code scale = max|row|/127}, round half away from zero: each weight within {@code scale/2}).
 */
public final class EmbeddingTable {
  private final int vocab;
  private final int hidden;
  private final float[] f32;
  private final byte[] q8;
  private final float[] scales;
  private final FloatKernels ops;

  private EmbeddingTable(int vocab, int hidden, float[] f32, byte[] q8, float[] scales, FloatKernels ops) {
    this.vocab = vocab;
    this.hidden = hidden;
    this.f32 = f32;
    this.q8 = q8;
    this.scales = scales;
    this.ops = ops;
  }

  /**
   * Creates a table from f32 weights.
   *
   * @param weights {@code vocab·hidden} row-major weights
   * @param vocab rows
   * @param hidden columns
   * @param int8 whether to store them as int8 with per-row scales
   * @return the table
   */
  public static EmbeddingTable of(float[] weights, int vocab, int hidden, boolean int8) {
    if ((long) vocab * hidden != weights.length) {
      throw new ShapeException("embedding [" + vocab + ", " + hidden + "] needs " + (long) vocab * hidden + " weights, got " + weights.length);
    }
    for (int i = 0; i < weights.length; i++) {
      if (!Float.isFinite(weights[i])) {
        throw new ShapeException("embedding weight [" + i / hidden + ", " + i % hidden + "] is " + weights[i]);
      }
    }
    FloatKernels ops = FloatKernels.get();
    if (!int8) {
      return new EmbeddingTable(vocab, hidden, weights.clone(), null, null, ops);
    }
    byte[] q = new byte[weights.length];
    float[] s = new float[vocab];
    for (int r = 0; r < vocab; r++) {
      float max = 0f;
      for (int i = 0; i < hidden; i++) {
        max = Math.max(max, Math.abs(weights[r * hidden + i]));
      }
      if (max == 0f) {
        continue;
      }
      s[r] = max / 127f;
      float inv = 127f / max;
      for (int i = 0; i < hidden; i++) {
        float v = weights[r * hidden + i] * inv;
        int qi = (int) (v + Math.copySign(0.5f, v));
        q[r * hidden + i] = (byte) Math.max(-127, Math.min(127, qi));
      }
    }
    return new EmbeddingTable(vocab, hidden, null, q, s, ops);
  }

  /** Rows (tokens). */
  public int vocab() {
    return vocab;
  }

  /** Columns (model width). */
  public int hidden() {
    return hidden;
  }

  /** Whether the table is stored as int8. */
  public boolean isInt8() {
    return q8 != null;
  }

  /**
   * Copies (dequantizes) the embedding of a token.
   *
   * @param token the token
   * @param out receives {@link #hidden()} floats
   * @param off offset into {@code out}
   * @throws ShapeException if the token is outside the vocabulary
   */
  public void lookup(int token, float[] out, int off) {
    if (token < 0 || token >= vocab) {
      throw new ShapeException("token " + token + " outside the vocabulary [0, " + vocab + ")");
    }
    if (f32 != null) {
      System.arraycopy(f32, token * hidden, out, off, hidden);
    } else {
      float s = scales[token];
      for (int i = 0; i < hidden; i++) {
        out[off + i] = q8[token * hidden + i] * s;
      }
    }
  }

  /**
   * Computes {@code logits[r][v] = row_v · x[r]} for {@code rows} input rows, in parallel over the
   * vocabulary.
   *
   * @param x {@code rows·hidden} inputs
   * @param logits receives {@code rows·vocab} outputs
   * @param rows input rows
   */
  public void logits(float[] x, float[] logits, int rows) {
    // Vocabulary rows are independent; 256 rows of a few hundred columns are worth a thread.
    RowPool.shared().forRange(vocab, 256, (from, to) -> {
      for (int r = 0; r < rows; r++) {
        for (int v = from; v < to; v++) {
          logits[r * vocab + v] = f32 != null
              ? ops.dot(f32, v * hidden, x, r * hidden, hidden)
              : ops.dotInt8(q8, v * hidden, x, r * hidden, hidden) * scales[v];
        }
      }
    });
  }

  /**
   * A table of already quantized int8 rows (as {@link #int8Values()} and {@link #rowScales()}
   * return them).
   *
   * @param values {@code vocab·hidden} signed values; copied
   * @param rowScales {@code vocab} finite scales; copied
   * @param vocab rows
   * @param hidden columns
   * @return the table
   * @throws ShapeException if a length does not match or a scale is not finite
   */
  public static EmbeddingTable ofInt8(byte[] values, float[] rowScales, int vocab, int hidden) {
    if ((long) vocab * hidden != values.length || rowScales.length != vocab) {
      throw new ShapeException("int8 embedding [" + vocab + ", " + hidden + "] needs " + (long) vocab * hidden + " values and "
          + vocab + " scales, got " + values.length + " and " + rowScales.length);
    }
    for (int r = 0; r < vocab; r++) {
      if (!Float.isFinite(rowScales[r])) {
        throw new ShapeException("embedding row scale [" + r + "] is " + rowScales[r]);
      }
    }
    return new EmbeddingTable(vocab, hidden, null, values.clone(), rowScales.clone(), FloatKernels.get());
  }

  /**
   * A copy of the int8 values of an int8 table.
   *
   * @return {@code vocab·hidden} values, row-major
   * @throws IllegalStateException if the table is f32
   */
  public byte[] int8Values() {
    if (q8 == null) {
      throw new IllegalStateException("the embedding table is f32, not int8");
    }
    return q8.clone();
  }

  /**
   * A copy of the row scales of an int8 table.
   *
   * @return {@code vocab} scales
   * @throws IllegalStateException if the table is f32
   */
  public float[] rowScales() {
    if (q8 == null) {
      throw new IllegalStateException("the embedding table is f32, not int8");
    }
    return scales.clone();
  }

  /** A copy of the (dequantized) table, row-major. */
  public float[] toFloats() {
    if (f32 != null) {
      return f32.clone();
    }
    float[] out = new float[vocab * hidden];
    for (int r = 0; r < vocab; r++) {
      for (int i = 0; i < hidden; i++) {
        out[r * hidden + i] = q8[r * hidden + i] * scales[r];
      }
    }
    return out;
  }

  /** Bytes held by weights and scales. */
  public long memoryBytes() {
    return f32 != null ? (long) f32.length * Float.BYTES : q8.length + (long) scales.length * Float.BYTES;
  }

  @Override
  public String toString() {
    return "EmbeddingTable[" + vocab + "x" + hidden + (q8 != null ? ", int8" : ", f32") + "]";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EmbeddingTable t && vocab == t.vocab && hidden == t.hidden && Arrays.equals(f32, t.f32)
        && Arrays.equals(q8, t.q8) && Arrays.equals(scales, t.scales);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(f32) + Arrays.hashCode(q8);
  }
}
