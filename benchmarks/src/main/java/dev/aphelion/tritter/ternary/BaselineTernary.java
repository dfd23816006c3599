package dev.aphelion.tritter.ternary;

import dev.aphelion.tritter.kernel.RowPool;
import dev.aphelion.tritter.quant.Int8Activations;

/**
 * Benchmark-only access to a frozen copy of the ternary kernels as they were before issue 11
 * ({@link BaselineTernaryKernels}, main at 2cb94c4), so that old and new kernels are measured side by
 * side in one JMH run. Lives in the library's package (on the class path) only to reach {@link
 * PackedTernary}'s package-private layout; not part of the library.
 */
public final class BaselineTernary {
  private static final BaselineTernaryKernels KERNELS = new BaselineTernaryKernels();

  private BaselineTernary() {}

  /** The old {@code TernaryMatmul.gemmInt8} (no argument checks). */
  public static void gemmInt8(PackedTernary w, Int8Activations x, float[] y) {
    KERNELS.matmulInt8(w, x.segment(), x.scales(), x.batch(), null, y, RowPool.shared());
  }

  /** The old {@code TernaryMatmul.gemm} with float activations (no argument checks). */
  public static void gemm(PackedTernary w, float[] x, int batch, float[] y) {
    KERNELS.matmulFloat(w, x, batch, null, y, RowPool.shared());
  }
}
