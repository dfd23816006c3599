package dev.aphelion.cuda.ternary;

/**
 * The kernel behind a W1.58A8 product ({@link Int8Matmul}). {@link #AUTO} picks by batch size;
 * the others force one (benchmarks compare them).
 */
public enum Int8Kernel {
  /** GEMV for one token, skinny tensor-core GEMM up to 64 tokens, tiled tensor-core GEMM above. */
  AUTO("auto", 0, 0, 0),
  /** dp4a GEMV (any batch, one weight pass per token). */
  GEMV("aph_gemv_s8", 0, 0, 0),
  /**
   * dp4a GEMV with 16-byte weight loads and the int8 token in shared memory, grid-stride over
   * 8-row groups (any batch, one weight pass per token; at most {@link
   * CudaTernaryKernels#fusedMaxCols()} columns).
   */
  GEMV_WIDE("aph_gemv_s8_wide", 0, 0, 0),
  /** Tensor-core GEMM with the weights as the m16 operand, up to 64 tokens per pass. */
  SKINNY("aph_gemm_s8_skinny", 0, 0, 0),
  /** Tiled tensor-core GEMM, 128 tokens by 256 rows per block, 3-stage pipeline. */
  TC_128X256("aph_gemm_s8_tc_128x256", 128, 256, 3),
  /** Tiled tensor-core GEMM, 128 tokens by 256 rows per block, 4-stage pipeline. */
  TC_128X256S4("aph_gemm_s8_tc_128x256s4", 128, 256, 4),
  /** Tiled tensor-core GEMM, 256 tokens by 128 rows per block (warp tile 64 x 64). */
  TC_256X128("aph_gemm_s8_tc_256x128", 256, 128, 3),
  /** Tiled tensor-core GEMM, 128 tokens by 128 rows per block (warp tile 64 x 32). */
  TC_128X128("aph_gemm_s8_tc_128x128", 128, 128, 3),
  /** Tiled tensor-core GEMM, 128 tokens by 128 rows per block (warp tile 32 x 64). */
  TC_128X128N("aph_gemm_s8_tc_128x128n", 128, 128, 3),
  /**
   * Hopper warpgroup-MMA (wgmma) GEMM, 128 tokens by 128 rows per block (two warpgroups), 3-stage
   * pipeline; compute capability 9.0 only.
   */
  WG_128X128("aph_gemm_s8_wg_128x128", 128, 128, 3, 2),
  /** Hopper wgmma GEMM, 256 tokens by 128 rows per block (two warpgroups); compute capability 9.0 only. */
  WG_256X128("aph_gemm_s8_wg_256x128", 256, 128, 3, 2),
  /** Hopper wgmma GEMM, 128 tokens by 256 rows per block (four warpgroups); compute capability 9.0 only. */
  WG_128X256("aph_gemm_s8_wg_128x256", 128, 256, 4, 4);

  private final String symbol;
  private final int blockTokens;
  private final int blockRows;
  private final int stages;
  private final int warpgroups;

  Int8Kernel(String symbol, int blockTokens, int blockRows, int stages) {
    this(symbol, blockTokens, blockRows, stages, 0);
  }

  Int8Kernel(String symbol, int blockTokens, int blockRows, int stages, int warpgroups) {
    this.symbol = symbol;
    this.blockTokens = blockTokens;
    this.blockRows = blockRows;
    this.stages = stages;
    this.warpgroups = warpgroups;
  }

  String symbol() {
    return symbol;
  }

  /**
   * Whether this is one of the tiled tensor-core kernels.
   *
   * @return true for the {@code TC_*} constants
   */
  public boolean tiled() {
    return blockTokens > 0;
  }

  /**
   * Whether this kernel uses Hopper warpgroup MMA (sm_90a), so runs only on compute capability 9.0.
   *
   * @return true for the {@code WG_*} constants
   */
  public boolean hopperOnly() {
    return warpgroups > 0;
  }

  /** Threads per block of a tiled kernel. */
  int threads() {
    return warpgroups > 0 ? warpgroups * 128 : 256;
  }

  int blockTokens() {
    return blockTokens;
  }

  int blockRows() {
    return blockRows;
  }

  /**
   * Dynamic shared memory of a tiled kernel: stages x (activation tile + weight tile); the wgmma
   * kernels stage only activations and need 1 KiB more to align their swizzle atoms.
   */
  int sharedBytes() {
    if (warpgroups > 0) {
      return stages * blockTokens * GpuTernaryLayout.K_BLOCK + 1024;
    }
    return stages * (blockTokens * GpuTernaryLayout.K_BLOCK + blockRows / 8 * GpuTernaryLayout.TILE_WORDS * 4);
  }
}
