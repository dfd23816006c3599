package dev.aphelion.tritter.nn;

/** Plain-loop reference implementation of {@link FloatKernels}. */
final class ScalarFloatKernels implements FloatKernels {

  /** Creates the reference implementation. */
  ScalarFloatKernels() {}

  @Override
  public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
    float s = 0f;
    for (int i = 0; i < n; i++) {
      s += a[aOff + i] * b[bOff + i];
    }
    return s;
  }

  @Override
  public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
    for (int i = 0; i < n; i++) {
      y[yOff + i] += alpha * x[xOff + i];
    }
  }

  @Override
  public float sumSquares(float[] x, int off, int n) {
    float s = 0f;
    for (int i = 0; i < n; i++) {
      s += x[off + i] * x[off + i];
    }
    return s;
  }

  @Override
  public float dotInt8(byte[] w, int wOff, float[] x, int xOff, int n) {
    float s = 0f;
    for (int i = 0; i < n; i++) {
      s += w[wOff + i] * x[xOff + i];
    }
    return s;
  }

  @Override
  public void axpyInt8(float alpha, byte[] x, int xOff, float[] y, int yOff, int n) {
    for (int i = 0; i < n; i++) {
      y[yOff + i] += alpha * x[xOff + i];
    }
  }
}
