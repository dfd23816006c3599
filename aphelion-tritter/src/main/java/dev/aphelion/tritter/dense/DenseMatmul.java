package dev.aphelion.tritter.dense;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.kernel.RowPool;
import dev.aphelion.tritter.kernel.Vectorization;
import java.lang.invoke.MethodHandles;
import java.util.Objects;

/**
 * Dense f32 matrix products {@code y = x · Wᵀ (+ bias)} with a row-major {@code [rows][cols]}
 * weight array: the best plain f32 GEMV/GEMM this project writes on the Vector API (FMA, 4x4
 * register tiles, column blocking, rows split across a {@link RowPool}), with a scalar reference.
 *
 * <p>The Vector API path adds the products in a different order than the scalar reference (and
 * fuses multiply and add), so results differ by at most {@code 2·γ(cols)·Σ_c |w[r][c]·x[c]|} with
 * {@code γ(n) = n·2⁻²⁴ / (1 - n·2⁻²⁴)}.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class DenseMatmul {

  private static final class Default {
    static final DenseMatmul INSTANCE = new DenseMatmul(Vectorization.get(), RowPool.shared());
  }

  private final DenseKernels kernels;
  private final Vectorization vectorization;
  private final RowPool pool;

  /**
   * Creates a front door on an explicit path and pool (tests and benchmarks).
   *
   * @param vectorization the kernel path
   * @param pool the threads rows are split across
   */
  public DenseMatmul(Vectorization vectorization, RowPool pool) {
    this.vectorization = Objects.requireNonNull(vectorization, "vectorization");
    this.pool = Objects.requireNonNull(pool, "pool");
    this.kernels = vectorization.select(DenseKernels.class, ScalarDenseKernels::new, MethodHandles.lookup(), "PanamaDenseKernels");
  }

  /**
   * The shared instance: {@link Vectorization#get()} and {@link RowPool#shared()}.
   *
   * @return the shared instance
   * @throws dev.aphelion.core.error.ConfigException if the kernel switch is invalid
   */
  public static DenseMatmul get() {
    Vectorization.get(); // a bad -Daphelion.kernels is a ConfigException here, not a failed class init
    return Default.INSTANCE;
  }

  /** The kernel path this instance uses. */
  public Vectorization vectorization() {
    return vectorization;
  }

  /**
   * One token: {@code y = W·x}.
   *
   * @param w {@code rows * cols} weights, row-major
   * @param rows rows
   * @param cols columns
   * @param x {@code cols} activations
   * @param y {@code rows} outputs, overwritten
   * @throws ShapeException if a length does not match
   */
  public void gemv(float[] w, int rows, int cols, float[] x, float[] y) {
    gemm(w, rows, cols, x, 1, y, null);
  }

  /**
   * One token plus bias.
   *
   * @param w {@code rows * cols} weights, row-major
   * @param rows rows
   * @param cols columns
   * @param x {@code cols} activations
   * @param y {@code rows} outputs, overwritten
   * @param bias {@code rows} values, or {@code null}
   * @throws ShapeException if a length does not match
   */
  public void gemv(float[] w, int rows, int cols, float[] x, float[] y, float[] bias) {
    gemm(w, rows, cols, x, 1, y, bias);
  }

  /**
   * A batch of tokens.
   *
   * @param w {@code rows * cols} weights, row-major
   * @param rows rows
   * @param cols columns
   * @param x {@code [batch][cols]} activations, row-major
   * @param batch tokens
   * @param y {@code [batch][rows]} outputs, row-major, overwritten
   * @throws ShapeException if a length does not match
   */
  public void gemm(float[] w, int rows, int cols, float[] x, int batch, float[] y) {
    gemm(w, rows, cols, x, batch, y, null);
  }

  /**
   * A batch of tokens plus bias.
   *
   * @param w {@code rows * cols} weights, row-major
   * @param rows rows
   * @param cols columns
   * @param x {@code [batch][cols]} activations, row-major
   * @param batch tokens
   * @param y {@code [batch][rows]} outputs, row-major, overwritten
   * @param bias {@code rows} values, or {@code null}
   * @throws ShapeException if a length does not match
   */
  public void gemm(float[] w, int rows, int cols, float[] x, int batch, float[] y, float[] bias) {
    Objects.requireNonNull(w, "w");
    Objects.requireNonNull(x, "x");
    Objects.requireNonNull(y, "y");
    if (rows < 1 || cols < 1 || batch < 1) {
      throw new ShapeException("rows, cols and batch must be at least 1, got rows " + rows + ", cols " + cols + ", batch " + batch);
    }
    if (w.length != (long) rows * cols) {
      throw new ShapeException("w has length " + w.length + " but rows*cols = " + rows + "*" + cols + " = " + (long) rows * cols);
    }
    if (x.length != (long) batch * cols) {
      throw new ShapeException("x has length " + x.length + " but W is " + rows + "x" + cols + " and batch is " + batch + " (expected " + (long) batch * cols + ")");
    }
    if (y.length != (long) batch * rows) {
      throw new ShapeException("y has length " + y.length + " but W is " + rows + "x" + cols + " and batch is " + batch + " (expected " + (long) batch * rows + ")");
    }
    if (bias != null && bias.length != rows) {
      throw new ShapeException("bias has length " + bias.length + " but W has " + rows + " rows");
    }
    kernels.gemm(w, rows, cols, x, batch, bias, y, pool);
  }

  @Override
  public String toString() {
    return "DenseMatmul[" + vectorization + ", " + pool + "]";
  }
}
