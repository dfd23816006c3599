package dev.aphelion.cuda.ternary;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.cuda.driver.DeviceBuffer;

/**
 * A prepared W1.58A8 product {@code y = W · x} for a fixed weight matrix and batch size, with its
 * device workspace (int8 activations, their per-token scales and sums): {@link #quantize} turns
 * float (or bfloat16) activations into per-token int8 on the GPU, {@link #multiply} runs the
 * ternary x int8 kernel with int32 accumulation. Both only queue work on the kernels' stream.
 *
 * <p>Results equal {@code ((float) Σ_k w·q * wScale[row]) * xScale[token]} exactly, the order of
 * aphelion-tritter's {@code TernaryMatmul.gemmInt8}.
 */
public final class Int8Matmul implements AutoCloseable {

  /** Tokens per pass of the skinny kernel. */
  static final int SKINNY_MAX_TOKENS = 64;

  private final CudaTernaryKernels kernels;
  private final GpuTernaryMatrix w;
  private final int batch;
  private final Int8Kernel kernel;
  private final int qRows;
  private final DeviceBuffer q;
  private final DeviceBuffer xsum;
  private final DeviceBuffer xscale;

  Int8Matmul(CudaTernaryKernels kernels, GpuTernaryMatrix w, int batch, Int8Kernel kernel) {
    this.kernels = kernels;
    this.w = w;
    this.batch = batch;
    this.kernel = kernel;
    this.qRows = switch (kernel) {
      case GEMV, GEMV_WIDE -> batch;
      case SKINNY -> batch <= SKINNY_MAX_TOKENS ? 8 * skinnyTiles(batch) : roundUp(batch, SKINNY_MAX_TOKENS);
      default -> roundUp(batch, kernel.blockTokens());
    };
    long kPad = (long) w.kBlocks() * GpuTernaryLayout.K_BLOCK;
    DeviceBuffer qb = null;
    DeviceBuffer sb = null;
    try {
      qb = kernels.context().allocate(qRows * kPad);
      sb = kernels.context().allocate(4L * qRows);
      this.xscale = kernels.context().allocate(4L * qRows);
    } catch (RuntimeException e) {
      if (qb != null) {
        qb.close();
      }
      if (sb != null) {
        sb.close();
      }
      throw e;
    }
    this.q = qb;
    this.xsum = sb;
  }

  static int skinnyTiles(int tokens) {
    int tiles = (tokens + 7) / 8;
    return tiles <= 1 ? 1 : tiles <= 2 ? 2 : tiles <= 4 ? 4 : 8;
  }

  static int roundUp(int v, int m) {
    return (v + m - 1) / m * m;
  }

  /**
   * The kernel this product runs (never {@link Int8Kernel#AUTO}).
   *
   * @return the kernel
   */
  public Int8Kernel kernel() {
    return kernel;
  }

  /**
   * The batch size.
   *
   * @return tokens per call
   */
  public int batch() {
    return batch;
  }

  /**
   * The weights.
   *
   * @return the matrix
   */
  public GpuTernaryMatrix weights() {
    return w;
  }

  boolean naturalLayout() {
    return kernel.tiled();
  }

  /**
   * Queues per-token int8 quantization of float activations.
   *
   * @param x {@code [batch][ldx]} floats, the first {@code cols} of each row used
   * @param ldx row stride in floats, at least {@code cols}
   */
  public void quantize(DeviceBuffer x, int ldx) {
    checkIn(x, ldx, 4);
    kernels.quantizeActivations(this, x, ldx, false);
  }

  /**
   * Queues per-token int8 quantization of bfloat16 activations.
   *
   * @param x {@code [batch][ldx]} bfloat16 bit patterns, the first {@code cols} of each row used
   * @param ldx row stride in elements, at least {@code cols}
   */
  public void quantizeBf16(DeviceBuffer x, int ldx) {
    checkIn(x, ldx, 2);
    kernels.quantizeActivations(this, x, ldx, true);
  }

  /**
   * Queues the ternary x int8 product of the last quantized activations.
   *
   * @param y {@code [batch][ldy]} floats; the first {@code rows} of each row are written
   * @param ldy row stride in floats, at least {@code rows}
   */
  public void multiply(DeviceBuffer y, int ldy) {
    if (ldy < w.rows()) {
      throw new ShapeException("ldy " + ldy + " is less than the " + w.rows() + " rows of W");
    }
    long need = 4L * ((long) (batch - 1) * ldy + w.rows());
    if (y.byteSize() < need) {
      throw new ShapeException("output buffer holds " + y.byteSize() + " bytes, needs " + need);
    }
    kernels.multiplyInt8(this, y, ldy);
  }

  /**
   * Copies the quantized activations to the host (waits for queued work), in natural order.
   *
   * @return values, scales and sums of the {@code batch} tokens
   */
  public QuantizedActivations readQuantized() {
    kernels.stream().synchronize();
    int cols = w.cols();
    int kPad = w.kBlocks() * GpuTernaryLayout.K_BLOCK;
    byte[] raw = new byte[batch * kPad];
    q.read(raw, 0);
    byte[] values = new byte[batch * cols];
    for (int t = 0; t < batch; t++) {
      for (int c = 0; c < cols; c++) {
        int pos = naturalLayout() ? c : GpuTernaryLayout.lanePosition(c);
        values[t * cols + c] = raw[t * kPad + pos];
      }
    }
    float[] scales = new float[batch];
    xscale.read(scales, 0);
    int[] sums = new int[batch];
    xsum.read(sums, 0);
    return new QuantizedActivations(values, scales, sums, batch, cols);
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

  int qRows() {
    return qRows;
  }

  private void checkIn(DeviceBuffer x, int ldx, int elemBytes) {
    if (ldx < w.cols()) {
      throw new ShapeException("ldx " + ldx + " is less than the " + w.cols() + " columns of W");
    }
    long need = (long) elemBytes * ((long) (batch - 1) * ldx + w.cols());
    if (x.byteSize() < need) {
      throw new ShapeException("activation buffer holds " + x.byteSize() + " bytes, needs " + need);
    }
  }

  /** Frees the workspace (the weights stay). */
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
