package dev.aphelion.cuda.ternary;

import dev.aphelion.cuda.driver.DeviceBuffer;

/**
 * A ternary weight matrix {@code [rows][cols]} in device memory, in the {@link GpuTernaryLayout}
 * with one float scale per row. Created by {@link CudaTernaryKernels#upload} or {@link
 * CudaTernaryKernels#quantizeAbsmean}; closing it frees the device memory.
 */
public final class GpuTernaryMatrix implements AutoCloseable {

  private final CudaTernaryKernels kernels;
  private final DeviceBuffer words;
  private final DeviceBuffer scales;
  private final int rows;
  private final int cols;

  GpuTernaryMatrix(CudaTernaryKernels kernels, DeviceBuffer words, DeviceBuffer scales, int rows, int cols) {
    this.kernels = kernels;
    this.words = words;
    this.scales = scales;
    this.rows = rows;
    this.cols = cols;
  }

  /**
   * Output features.
   *
   * @return the row count
   */
  public int rows() {
    return rows;
  }

  /**
   * Input features.
   *
   * @return the column count
   */
  public int cols() {
    return cols;
  }

  /**
   * Number of 256-column blocks.
   *
   * @return {@code ceil(cols / 256)}
   */
  public int kBlocks() {
    return GpuTernaryLayout.kBlocks(cols);
  }

  /**
   * Number of 8-row groups in the (padded) layout.
   *
   * @return padded rows / 8
   */
  public int rowGroups() {
    return GpuTernaryLayout.paddedRows(rows) / 8;
  }

  /**
   * The packed words on the device.
   *
   * @return the buffer (owned by this matrix)
   */
  public DeviceBuffer words() {
    ensureOpen();
    return words;
  }

  /**
   * The row scales on the device ({@code rows} floats).
   *
   * @return the buffer (owned by this matrix)
   */
  public DeviceBuffer scales() {
    ensureOpen();
    return scales;
  }

  /**
   * Bytes of weights a kernel reads once per pass: 2 bits per logical weight.
   *
   * @return {@code rows * cols / 4}
   */
  public long weightBytes() {
    return (long) rows * cols / 4;
  }

  /**
   * Downloads the trits in the tritter byte format.
   *
   * @return {@code rows * ceil(cols / 4)} bytes
   */
  public byte[] toTritterBytes() {
    ensureOpen();
    return kernels.unpackToTritter(this);
  }

  /**
   * Downloads the matrix as an aphelion-tritter {@link dev.aphelion.tritter.ternary.PackedTernary}
   * (one scale group per row).
   *
   * @return the weights on the host
   */
  public dev.aphelion.tritter.ternary.PackedTernary toPackedTernary() {
    return dev.aphelion.tritter.ternary.PackedTernary.fromTritterBytes(toTritterBytes(), rows, cols, rowScales(), cols);
  }

  /**
   * Downloads the row scales.
   *
   * @return {@code rows} floats
   */
  public float[] rowScales() {
    ensureOpen();
    float[] s = new float[rows];
    scales.read(s, 0);
    return s;
  }

  /**
   * Whether this matrix has been closed (or its context has).
   *
   * @return true once closed
   */
  public boolean isClosed() {
    return words.isClosed() || scales.isClosed();
  }

  private void ensureOpen() {
    if (isClosed()) {
      throw new IllegalStateException("GpuTernaryMatrix is closed");
    }
  }

  /** Frees the device memory. */
  @Override
  public void close() {
    try {
      words.close();
    } finally {
      scales.close();
    }
  }

  @Override
  public String toString() {
    return "GpuTernaryMatrix[" + rows + "x" + cols + "]";
  }
}
