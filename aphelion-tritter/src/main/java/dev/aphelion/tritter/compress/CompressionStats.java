package dev.aphelion.tritter.compress;

/**
 * Running totals of one {@link GradientCompressor}.
 *
 * @param steps gradients compressed so far
 * @param originalBytes f32 bytes of those gradients
 * @param wireBytes bytes of the messages produced (headers, scales and checksums included)
 * @param lastWireBytes size of the latest message, 0 before the first
 * @param lastNonZeros coordinates carried by the latest message
 * @param residualNorm L2 norm of the error-feedback residual after the latest step
 */
public record CompressionStats(long steps, long originalBytes, long wireBytes, int lastWireBytes, int lastNonZeros,
    double residualNorm) {

  /** Wire bytes over f32 bytes over all steps (0 before the first). */
  public double compressionRatio() {
    return originalBytes == 0 ? 0.0 : (double) wireBytes / originalBytes;
  }

  /** f32 bytes over wire bytes over all steps (0 before the first). */
  public double compressionFactor() {
    return wireBytes == 0 ? 0.0 : (double) originalBytes / wireBytes;
  }
}
