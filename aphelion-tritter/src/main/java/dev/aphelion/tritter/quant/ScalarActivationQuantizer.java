package dev.aphelion.tritter.quant;

/** The plain-Java reference of {@link ActivationQuantizer}. */
final class ScalarActivationQuantizer implements ActivationQuantizer {

  @Override
  public float quantize(float[] x, int xOff, int cols, byte[] q, int qOff) {
    float max = 0f;
    for (int i = 0; i < cols; i++) {
      max = Math.max(max, Math.abs(x[xOff + i]));
    }
    if (!Float.isFinite(max)) {
      return Float.NaN;
    }
    if (max == 0f) {
      for (int i = 0; i < cols; i++) {
        q[qOff + i] = 0;
      }
      return 1f;
    }
    float scale = max / 127f;
    for (int i = 0; i < cols; i++) {
      q[qOff + i] = (byte) roundClamp(x[xOff + i] / scale);
    }
    return scale;
  }

  /** Round half away from zero, then clamp to [-127, 127]; exact for every float (no {@code + 0.5f} rounding trap). */
  static int roundClamp(float v) {
    float a = Math.abs(v);
    if (a >= 127f) {
      return v < 0 ? -127 : 127;
    }
    int t = (int) a;
    int r = t + ((a - t) >= 0.5f ? 1 : 0);
    r = Math.min(r, 127);
    return v < 0 ? -r : r;
  }
}
