package dev.aphelion.cuda.ternary;

import dev.aphelion.cuda.driver.DeviceBuffer;

/**
 * Per-token int8 activations on the device, quantized once and multiplied by any number of
 * ternary matrices of the same width ({@link CudaTernaryKernels#allocateInput}, {@link
 * CudaTernaryKernels#quantize(Int8Input, DeviceBuffer, int, int)}, {@link
 * CudaTernaryKernels#multiply(GpuTernaryMatrix, Int8Input, DeviceBuffer, int)}). Unlike {@link
 * Int8Matmul} it is not bound to one matrix; the layout follows the batch size of the last
 * quantization. Closing it frees the device memory.
 */
public final class Int8Input implements AutoCloseable {

  private final DeviceBuffer q;
  private final DeviceBuffer xsum;
  private final DeviceBuffer xscale;
  private final int cols;
  private final int maxBatch;
  private int batch;
  private Int8Kernel kernel;

  Int8Input(DeviceBuffer q, DeviceBuffer xsum, DeviceBuffer xscale, int cols, int maxBatch) {
    this.q = q;
    this.xsum = xsum;
    this.xscale = xscale;
    this.cols = cols;
    this.maxBatch = maxBatch;
  }

  /**
   * Values per row.
   *
   * @return the width
   */
  public int cols() {
    return cols;
  }

  /**
   * Rows it has room for.
   *
   * @return the capacity
   */
  public int maxBatch() {
    return maxBatch;
  }

  /**
   * Rows of the last quantization (0 before the first).
   *
   * @return the row count
   */
  public int batch() {
    return batch;
  }

  Int8Kernel kernel() {
    return kernel;
  }

  void quantized(int batch, Int8Kernel kernel) {
    this.batch = batch;
    this.kernel = kernel;
  }

  DeviceBuffer q() {
    return q;
  }

  DeviceBuffer xsum() {
    return xsum;
  }

  DeviceBuffer xscale() {
    return xscale;
  }

  /** Frees the device memory. */
  @Override
  public void close() {
    try {
      q.close();
    } finally {
      try {
        xsum.close();
      } finally {
        xscale.close();
      }
    }
  }
}
