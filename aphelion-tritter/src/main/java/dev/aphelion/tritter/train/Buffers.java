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

  /** Copies a checkpointed optimizer state into {@code to} after checking the arrays' number and sizes. */
  static void restoreArrays(String name, Optimizer.State state, float[]... to) {
    if (state.arrays().length != to.length) {
      throw new dev.aphelion.core.error.ShapeException(name + " state has " + to.length + " arrays, the checkpoint holds "
          + state.arrays().length + " (another optimizer?)");
    }
    for (int i = 0; i < to.length; i++) {
      float[] a = state.arrays()[i];
      if (a == null || a.length != to[i].length) {
        throw new dev.aphelion.core.error.ShapeException(name + " holds " + to[i].length + " parameters, the checkpoint's array "
            + i + " has " + (a == null ? "none" : a.length));
      }
    }
    for (int i = 0; i < to.length; i++) {
      System.arraycopy(state.arrays()[i], 0, to[i], 0, to[i].length);
    }
  }
}
