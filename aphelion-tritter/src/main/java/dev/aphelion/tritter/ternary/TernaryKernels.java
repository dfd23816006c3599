package dev.aphelion.tritter.ternary;

import dev.aphelion.tritter.kernel.RowPool;
import java.lang.foreign.MemorySegment;

/**
 * The ternary matmul kernel family: a scalar reference ({@link ScalarTernaryKernels}) and a Vector
 * API version ({@link PanamaTernaryKernels}). Arguments are validated by {@link TernaryMatmul}.
 *
 * <p>Both compute, for token {@code b} and row {@code r}, group by group of the row's scales:
 *
 * <pre>
 *   int8:  s = 0f; for each group g: s += (float) (Σ_{c in g} trit(r,c) * q[b][c]) * scale(r,g);
 *          y[b][r] = s * xScale[b] (+ bias[r])
 *   float: s = 0f; for each group g: s += (Σ_{c in g} trit(r,c) * x[b][c]) * scale(r,g);
 *          y[b][r] = s (+ bias[r])
 * </pre>
 *
 * The int8 sums are exact integers, so both implementations agree bit for bit; the float sums are
 * added in different orders, see {@link TernaryMatmul} for the bound.
 */
interface TernaryKernels {

  /**
   * Float activations.
   *
   * @param w the weights
   * @param x {@code batch * w.cols()} activations, row-major
   * @param batch tokens
   * @param bias {@code w.rows()} values or {@code null}
   * @param y {@code batch * w.rows()} outputs, row-major
   * @param pool threads to split rows across
   */
  void matmulFloat(PackedTernary w, float[] x, int batch, float[] bias, float[] y, RowPool pool);

  /**
   * Int8 activations.
   *
   * @param w the weights
   * @param q {@code batch * w.cols()} int8 values in [-127, 127], row-major
   * @param xScales {@code batch} per-token scales
   * @param batch tokens
   * @param bias {@code w.rows()} values or {@code null}
   * @param y {@code batch * w.rows()} outputs, row-major
   * @param pool threads to split rows across
   */
  void matmulInt8(PackedTernary w, MemorySegment q, float[] xScales, int batch, float[] bias, float[] y, RowPool pool);

  /**
   * Int8 activations times several matrices of the same columns: the same results as {@link
   * #matmulInt8} on each matrix in turn, which is what the default does. A kernel family may run
   * them as one pool job that builds the activations' tables once.
   *
   * @param w the weights, all of {@code cols} columns
   * @param q {@code batch * cols} int8 values in [-127, 127], row-major
   * @param xScales {@code batch} per-token scales
   * @param batch tokens
   * @param bias per matrix {@code w[i].rows()} values or {@code null}
   * @param y per matrix {@code batch * w[i].rows()} outputs, row-major, distinct arrays
   * @param pool threads to split rows across
   */
  default void matmulInt8Shared(PackedTernary[] w, MemorySegment q, float[] xScales, int batch, float[][] bias, float[][] y,
      RowPool pool) {
    for (int i = 0; i < w.length; i++) {
      matmulInt8(w[i], q, xScales, batch, bias[i], y[i], pool);
    }
  }

  /**
   * Derives now whatever arrangement of {@code w} {@link #matmulInt8} would derive on its first
   * call (nothing for most kernels).
   *
   * @param w the weights
   */
  default void prepareInt8(PackedTernary w) {}

  /**
   * Dot product of two trit vectors of equal length whose values are already checked.
   *
   * @param a trits
   * @param b trits
   * @return {@code Σ a[i] * b[i]}
   */
  int dot(byte[] a, byte[] b);

  /**
   * The name of the int8 kernel {@code w} runs on for {@code batch} tokens (diagnostics).
   *
   * @param w the weights
   * @param batch tokens
   * @return {@code "scalar"} here; the Vector API family names its kernel and width
   */
  default String int8KernelName(PackedTernary w, int batch) {
    return "scalar";
  }

  /** Row blocks per chunk worth handing to another thread: about half a million weights. */
  static int minBlocksPerTask(PackedTernary w) {
    long perBlock = (long) PackedTernary.BLOCK_ROWS * w.cols();
    return (int) Math.max(1, (1L << 19) / perBlock);
  }

  /** Spans per chunk worth handing to another thread: about half a million weights. */
  static int minSpansPerTask(PackedTernary w) {
    long perSpan = (long) PackedTernary.SPAN_BLOCKS * PackedTernary.BLOCK_ROWS * w.cols();
    return (int) Math.max(1, (1L << 19) / perSpan);
  }
}
