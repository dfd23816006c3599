package dev.aphelion.cuda.ternary;

import dev.aphelion.tritter.kernel.Vectorization;
import dev.aphelion.tritter.quant.Int8Activations;
import java.util.Arrays;

/**
 * Plain scalar references the GPU results are compared with: trit decoding, absmean and the
 * matmuls written from the semantics in seed-semantics §2-3 (same operation order as
 * aphelion-tritter, so integer paths compare exactly); the per-token int8 quantization is the
 * library's own {@code Int8Activations} on the scalar path.
 */
final class ScalarReference {

  private ScalarReference() {}

  /** Trit of the tritter code at (r, c). */
  static int trit(byte[] packed, int cols, int r, int c) {
    int bpr = (cols + 3) / 4;
    int code = (packed[r * bpr + (c >> 2)] >> ((c & 3) * 2)) & 3;
    return code == 1 ? 1 : code == 2 ? -1 : 0;
  }

  /** Tritter bytes of a trit matrix. */
  static byte[] pack(byte[] trits, int rows, int cols) {
    int bpr = (cols + 3) / 4;
    byte[] out = new byte[rows * bpr];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int t = trits[r * cols + c];
        int code = t == 1 ? 1 : t == -1 ? 2 : 0;
        out[r * bpr + (c >> 2)] |= (byte) (code << ((c & 3) * 2));
      }
    }
    return out;
  }

  /** Absmean with one scale per row: {trits (as tritter bytes), scales}. */
  static Object[] absmean(float[] w, int rows, int cols) {
    byte[] trits = new byte[rows * cols];
    float[] scales = new float[rows];
    for (int r = 0; r < rows; r++) {
      float sum = 0f;
      for (int c = 0; c < cols; c++) {
        sum += Math.abs(w[r * cols + c]);
      }
      float scale = sum / cols;
      if (scale == 0f) {
        scale = 1f;
      }
      scales[r] = scale;
      for (int c = 0; c < cols; c++) {
        float v = w[r * cols + c] / scale;
        trits[r * cols + c] = (byte) (v >= 0.5f ? 1 : v <= -0.5f ? -1 : 0);
      }
    }
    return new Object[] {pack(trits, rows, cols), scales};
  }

  /** Per-token int8 quantization into q with the library's rule ({@link Int8Activations}); returns the scale. */
  static float quantizeToken(float[] x, int off, int cols, byte[] q, int qOff) {
    Int8Activations a = Int8Activations.quantize(Vectorization.scalar(), Arrays.copyOfRange(x, off, off + cols), 1, cols);
    System.arraycopy(a.values(), 0, q, qOff, cols);
    return a.scale(0);
  }

  /** W1.58A8: quantize each token, integer dot, ((float) acc * wScale) * xScale. */
  static float[] matmulInt8(byte[] packed, float[] wScales, int rows, int cols, float[] x, int batch) {
    float[] y = new float[batch * rows];
    byte[] q = new byte[cols];
    for (int b = 0; b < batch; b++) {
      java.util.Arrays.fill(q, (byte) 0);
      float xs = quantizeToken(x, b * cols, cols, q, 0);
      for (int r = 0; r < rows; r++) {
        int acc = 0;
        for (int c = 0; c < cols; c++) {
          acc += trit(packed, cols, r, c) * q[c];
        }
        float s = 0f;
        s += (float) acc * wScales[r];
        y[b * rows + r] = s * xs;
      }
    }
    return y;
  }

  /** Float activations in double: {y, bound} with bound = 2 * cols * 2^-24 * scale * Σ|x|. */
  static double[][] matmulFloat(byte[] packed, float[] wScales, int rows, int cols, float[] x, int batch) {
    double[] y = new double[batch * rows];
    double[] bound = new double[batch * rows];
    for (int b = 0; b < batch; b++) {
      double abs = 0;
      for (int c = 0; c < cols; c++) {
        abs += Math.abs(x[b * cols + c]);
      }
      for (int r = 0; r < rows; r++) {
        double acc = 0;
        for (int c = 0; c < cols; c++) {
          acc += trit(packed, cols, r, c) * (double) x[b * cols + c];
        }
        y[b * rows + r] = wScales[r] * acc;
        bound[b * rows + r] = 2.0 * (cols + 1) * 0x1p-24 * Math.abs(wScales[r]) * abs + 1e-37;
      }
    }
    return new double[][] {y, bound};
  }
}
