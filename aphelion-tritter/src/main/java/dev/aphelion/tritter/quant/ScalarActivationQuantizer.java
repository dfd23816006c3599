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
    float inv = 127f / max;
    for (int i = 0; i < cols; i++) {
      q[qOff + i] = (byte) roundClamp(x[xOff + i] * inv);
    }
    return max / 127f;
  }

  /**
   * Round half to even (as {@code torch.round}), then clamp to [-127, 127]: the integer part and
   * fraction are exact for every float below 2^23, so the Vector API version can do the same steps.
   */
  static int roundClamp(float v) {
    float a = Math.min(Math.abs(v), 127f);
    int t = (int) a;
    float frac = a - t;
    int r = t + (frac > 0.5f || (frac == 0.5f && (t & 1) == 1) ? 1 : 0);
    r = Math.min(r, 127);
    return v < 0 ? -r : r;
  }
}
