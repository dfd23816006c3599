package dev.aphelion.cuda.ternary;

/**
 * The kernel behind a fused quantization + GEMV ({@link CudaTernaryKernels#normQuantizeMultiply(
 * dev.aphelion.cuda.driver.DeviceBuffer, float, GpuTernaryMatrix[], dev.aphelion.cuda.driver.DeviceBuffer[],
 * dev.aphelion.cuda.driver.DeviceBuffer, int, int, dev.aphelion.cuda.driver.DeviceBuffer[], int[],
 * dev.aphelion.cuda.driver.DeviceBuffer, int, Int8Input, int, FusedGemv)}).
 */
public enum FusedGemv {
  /**
   * {@link #PER_BLOCK}; with {@code -Daphelion.cuda.clusterGemv=true}, {@link #CLUSTER} where it
   * runs and the buffers suit it.
   */
  AUTO,
  /** Every block normalizes and quantizes the whole row itself (any device, any shape). */
  PER_BLOCK,
  /**
   * Clusters of eight blocks share the work: each normalizes and quantizes an eighth of the row
   * and hands it to the others through distributed shared memory; 16-byte weight loads.
   * Compute capability 9.0, columns and strides multiples of 4, 16-byte aligned buffers.
   */
  CLUSTER
}
