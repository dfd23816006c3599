package dev.aphelion.tritter.quant;

/** Per-token int8 activation quantization kernels; a scalar reference and a Vector API version. */
interface ActivationQuantizer {

  /**
   * Quantizes one token: {@code scale = max|x|/127} (1.0 when the token is all zeros), {@code q =
   * clamp(rint(x·(127/max)), -127, 127)}, rounding half to even as transformers' BitNet does.
   *
   * @param x activations
   * @param xOff first activation of the token
   * @param cols activations in the token
   * @param q destination
   * @param qOff first destination index
   * @return the scale, or NaN if the token holds a NaN or infinite value (the caller reports it)
   */
  float quantize(float[] x, int xOff, int cols, byte[] q, int qOff);
}
