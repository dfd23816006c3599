package dev.aphelion.tritter.train;

/** Small array helpers shared by the trainable layers. */
final class Buffers {
  private Buffers() {}

  /** {@code a} if it has exactly {@code n} values, else a new array of {@code n}. */
  static float[] exact(float[] a, int n) {
    return a != null && a.length == n ? a : new float[n];
  }

  /** Transposes a row-major {@code rows × cols} block at {@code off} into {@code out} ({@code cols × rows}). */
  static float[] transpose(float[] a, int off, int rows, int cols, float[] out) {
    for (int r = 0; r < rows; r++) {
      int base = off + r * cols;
      for (int c = 0; c < cols; c++) {
        out[c * rows + r] = a[base + c];
      }
    }
    return out;
  }

  static double gaussian(java.util.SplittableRandom rnd) {
    double u1 = 1.0 - rnd.nextDouble();
    double u2 = rnd.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
