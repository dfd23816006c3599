package dev.aphelion.tritter.ternary;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.kernel.RowPool;
import dev.aphelion.tritter.kernel.Vectorization;
import dev.aphelion.tritter.quant.Int8Activations;
import java.lang.invoke.MethodHandles;
import java.util.Objects;

/**
 * Ternary matrix products {@code y = x · Wᵀ ⊙ scale (+ bias)} on {@link PackedTernary} weights: the
 * front door to the CPU kernels.
 *
 * <p>For weights {@code W} of shape {@code [rows][cols]} and activations {@code x} of shape {@code
 * [batch][cols]}, the output {@code y} has shape {@code [batch][rows]} (row-major) with {@code
 * y[b][r] = Σ_g scale(r,g) · Σ_{c in g} W[r][c] · x[b][c] (+ bias[r])}. With {@link
 * Int8Activations} the inner sums are exact integers and the result is multiplied by the token's
 * scale; the Vector API and scalar paths then agree bit for bit.
 *
 * <p><b>Float error bound.</b> With float activations the Vector API path adds the same terms as the
 * scalar reference in a different order (4-term table sums, then per-lane accumulation). Both are
 * within the classic summation bound of the exact value, so for every output {@code |y_vector -
 * y_scalar| <= 2·γ(n)·Σ_g |scale(r,g)|·Σ_{c in g} |x[c]|} with {@code n} the group length and
 * {@code γ(n) = n·2⁻²⁴ / (1 - n·2⁻²⁴)}, plus one rounding of the result; in practice the difference
 * is a few ulps of {@code Σ|x|}.
 *
 * <p><b>Checked inputs.</b> Float activations must be finite, as int8 ones are ({@link
 * Int8Activations} refuses NaN and infinities when it quantizes): a NaN or infinity is a {@link
 * ShapeException} naming its index, not a row of NaN outputs. The output array must not be the
 * activation or bias array: the kernels write outputs while they still read inputs.
 *
 * <p>Rows are split across a {@link RowPool} (default {@link RowPool#shared()}: all cores); the
 * kernels are chosen through {@link Vectorization} (default {@link Vectorization#get()}). Instances
 * are immutable and thread-safe.
 */
public final class TernaryMatmul {

  private static final class Default {
    static final TernaryMatmul INSTANCE = new TernaryMatmul(Vectorization.get(), RowPool.shared());
  }

  private final TernaryKernels kernels;
  private final Vectorization vectorization;
  private final RowPool pool;

  /**
   * Creates a front door on an explicit path and pool (tests and benchmarks).
   *
   * @param vectorization the kernel path
   * @param pool the threads rows are split across
   */
  public TernaryMatmul(Vectorization vectorization, RowPool pool) {
    this.vectorization = Objects.requireNonNull(vectorization, "vectorization");
    this.pool = Objects.requireNonNull(pool, "pool");
    this.kernels = vectorization.select(TernaryKernels.class, ScalarTernaryKernels::new, MethodHandles.lookup(), "PanamaTernaryKernels");
  }

  /**
   * The shared instance: {@link Vectorization#get()} and {@link RowPool#shared()}.
   *
   * @return the shared instance
   * @throws dev.aphelion.core.error.ConfigException if the kernel switch is invalid
   */
  public static TernaryMatmul get() {
    Vectorization.get(); // a bad -Daphelion.kernels is a ConfigException here, not a failed class init
    return Default.INSTANCE;
  }

  /** The kernel path this instance uses. */
  public Vectorization vectorization() {
    return vectorization;
  }

  /** The pool this instance splits rows across. */
  public RowPool pool() {
    return pool;
  }

  /**
   * One token, float activations: {@code y = W·x ⊙ scale}.
   *
   * @param w weights {@code [rows][cols]}
   * @param x {@code cols} activations
   * @param y {@code rows} outputs, overwritten
   * @throws ShapeException if a length does not match, {@code y} aliases {@code x}, or an
   *     activation is NaN or infinite
   */
  public void gemv(PackedTernary w, float[] x, float[] y) {
    gemv(w, x, y, null);
  }

  /**
   * One token, float activations, plus bias.
   *
   * @param w weights {@code [rows][cols]}
   * @param x {@code cols} activations
   * @param y {@code rows} outputs, overwritten
   * @param bias {@code rows} values, or {@code null}
   * @throws ShapeException if a length does not match, {@code y} aliases an input, or an activation
   *     is NaN or infinite
   */
  public void gemv(PackedTernary w, float[] x, float[] y, float[] bias) {
    gemm(w, x, 1, y, bias);
  }

  /**
   * A batch of tokens, float activations.
   *
   * @param w weights {@code [rows][cols]}
   * @param x {@code [batch][cols]} activations, row-major
   * @param batch tokens
   * @param y {@code [batch][rows]} outputs, row-major, overwritten
   * @throws ShapeException if a length does not match, {@code y} aliases {@code x}, or an
   *     activation is NaN or infinite
   */
  public void gemm(PackedTernary w, float[] x, int batch, float[] y) {
    gemm(w, x, batch, y, null);
  }

  /**
   * A batch of tokens, float activations, plus bias.
   *
   * @param w weights {@code [rows][cols]}
   * @param x {@code [batch][cols]} activations, row-major
   * @param batch tokens
   * @param y {@code [batch][rows]} outputs, row-major, overwritten
   * @param bias {@code rows} values, or {@code null}
   * @throws ShapeException if a length does not match, {@code y} aliases an input, or an activation
   *     is NaN or infinite
   */
  public void gemm(PackedTernary w, float[] x, int batch, float[] y, float[] bias) {
    Objects.requireNonNull(w, "w");
    Objects.requireNonNull(x, "x");
    Objects.requireNonNull(y, "y");
    if (batch < 1) {
      throw new ShapeException("batch must be at least 1, got " + batch);
    }
    if (x.length != (long) batch * w.cols()) {
      throw new ShapeException("x has length " + x.length + " but W is " + w.rows() + "x" + w.cols() + " and batch is " + batch + " (expected " + (long) batch * w.cols() + ")");
    }
    checkOut(w, batch, y, bias);
    if (y == x) {
      throw new ShapeException("y is the same array as x; the output must not alias the activations");
    }
    for (int i = 0; i < x.length; i++) {
      if (!Float.isFinite(x[i])) {
        throw new ShapeException("activation x[" + i + "] (token " + i / w.cols() + ", column " + i % w.cols() + ") is " + x[i]
            + "; activations must be finite (as gemvInt8 requires)");
      }
    }
    kernels.matmulFloat(w, x, batch, bias, y, pool);
  }

  /**
   * One token, int8 activations (W1.58A8): {@code y = (W·q ⊙ scale) · xScale}.
   *
   * @param w weights {@code [rows][cols]}
   * @param x one token of {@code cols} int8 activations
   * @param y {@code rows} outputs, overwritten
   * @throws ShapeException if a shape does not match
   */
  public void gemvInt8(PackedTernary w, Int8Activations x, float[] y) {
    gemvInt8(w, x, y, null);
  }

  /**
   * One token, int8 activations, plus bias.
   *
   * @param w weights {@code [rows][cols]}
   * @param x one token of {@code cols} int8 activations
   * @param y {@code rows} outputs, overwritten
   * @param bias {@code rows} values, or {@code null}
   * @throws ShapeException if a shape does not match
   */
  public void gemvInt8(PackedTernary w, Int8Activations x, float[] y, float[] bias) {
    Objects.requireNonNull(x, "x");
    if (x.batch() != 1) {
      throw new ShapeException("gemvInt8 takes one token but the activations hold " + x.batch() + "; use gemmInt8");
    }
    gemmInt8(w, x, y, bias);
  }

  /**
   * A batch of int8 tokens.
   *
   * @param w weights {@code [rows][cols]}
   * @param x {@code [batch][cols]} int8 activations
   * @param y {@code [batch][rows]} outputs, row-major, overwritten
   * @throws ShapeException if a shape does not match
   */
  public void gemmInt8(PackedTernary w, Int8Activations x, float[] y) {
    gemmInt8(w, x, y, null);
  }

  /**
   * A batch of int8 tokens, plus bias.
   *
   * @param w weights {@code [rows][cols]}
   * @param x {@code [batch][cols]} int8 activations
   * @param y {@code [batch][rows]} outputs, row-major, overwritten
   * @param bias {@code rows} values, or {@code null}
   * @throws ShapeException if a shape does not match
   */
  public void gemmInt8(PackedTernary w, Int8Activations x, float[] y, float[] bias) {
    Objects.requireNonNull(w, "w");
    Objects.requireNonNull(x, "x");
    Objects.requireNonNull(y, "y");
    if (x.cols() != w.cols()) {
      throw new ShapeException("activations have " + x.cols() + " columns but W is " + w.rows() + "x" + w.cols());
    }
    checkOut(w, x.batch(), y, bias);
    kernels.matmulInt8(w, x.segment(), x.scales(), x.batch(), bias, y, pool);
  }

  /**
   * Several matrices of the same columns on the same int8 tokens (a block's q, k and v
   * projections, or gate and up): the same results, bit for bit, as {@link
   * #gemmInt8(PackedTernary, Int8Activations, float[], float[])} on each matrix in turn. The
   * Vector API table kernels run them as one job on the pool (the tokens' tables built once per
   * thread, the rows of all matrices split across the threads together), which saves a pool
   * hand-off and its wait per matrix.
   *
   * @param w the weights, at least one matrix, all with {@code x.cols()} columns
   * @param x {@code [batch][cols]} int8 activations
   * @param y one output per matrix, {@code [batch][w[i].rows()]} row-major, overwritten; distinct
   *     arrays
   * @param bias {@code null} for no biases, or one entry per matrix: {@code w[i].rows()} values or
   *     {@code null}
   * @throws ShapeException if a count or shape does not match, or an output aliases another
   *     output or a bias
   */
  public void gemmInt8(PackedTernary[] w, Int8Activations x, float[][] y, float[][] bias) {
    Objects.requireNonNull(w, "w");
    Objects.requireNonNull(x, "x");
    Objects.requireNonNull(y, "y");
    if (w.length == 0 || y.length != w.length || (bias != null && bias.length != w.length)) {
      throw new ShapeException("gemmInt8 takes one output" + (bias != null ? " and one bias entry" : "") + " per matrix and at least one matrix; got "
          + w.length + " matrices, " + y.length + " outputs" + (bias != null ? ", " + bias.length + " bias entries" : ""));
    }
    float[][] b = bias != null ? bias : new float[w.length][];
    for (int i = 0; i < w.length; i++) {
      Objects.requireNonNull(w[i], "w[" + i + "]");
      Objects.requireNonNull(y[i], "y[" + i + "]");
      if (x.cols() != w[i].cols()) {
        throw new ShapeException("activations have " + x.cols() + " columns but W[" + i + "] is " + w[i].rows() + "x" + w[i].cols());
      }
      checkOut(w[i], x.batch(), y[i], b[i]);
      for (int j = 0; j < w.length; j++) {
        if (j != i && (y[i] == y[j] || y[i] == b[j])) {
          throw new ShapeException("y[" + i + "] is the same array as " + (y[i] == y[j] ? "y[" : "bias[") + j
              + "]; each output must be its own array");
        }
      }
    }
    kernels.matmulInt8Shared(w.clone(), x.segment(), x.scales(), x.batch(), b.clone(), y.clone(), pool);
  }

  /**
   * Which int8 kernel {@link #gemmInt8} runs for these weights and this many tokens on this
   * instance's path, for diagnostics and logs: {@code "scalar"} (the reference), {@code "word256"}
   * (2-bit codes in 16-bit words, multiply-add, 256-bit vectors), {@code "lut256"} / {@code
   * "lut512"} (16-entry table lookups on 256- / 512-bit vectors), {@code "lut512x4"} (the 512-bit
   * table kernel sharing each weight load across four tokens) or {@code "alut256"} (the
   * 256-bit activation-parallel table kernel: tokens in the vector lanes, one table lookup per 4
   * weights for a tile of 16 or 32 tokens; batches of 16 tokens or more).
   *
   * @param w the weights
   * @param batch tokens, at least 1
   * @return the kernel's name
   * @throws ShapeException if {@code batch} is below 1
   */
  public String int8KernelName(PackedTernary w, int batch) {
    Objects.requireNonNull(w, "w");
    if (batch < 1) {
      throw new ShapeException("batch must be at least 1, got " + batch);
    }
    return kernels.int8KernelName(w, batch);
  }

  /**
   * Derives now the arrangement of {@code w} that the int8 kernels would otherwise derive on
   * their first call (on 256-bit vectors: the word layout, seconds for a 2B-parameter model; where
   * batches would run on the activation-parallel kernel, its index bytes, 2 bits per weight), so
   * that a model pays it when it loads and not on its first token. Optional: {@link #gemmInt8}
   * does it when needed; calling it again is free.
   *
   * @param w the weights
   */
  public void prepareInt8(PackedTernary w) {
    kernels.prepareInt8(Objects.requireNonNull(w, "w"));
  }

  /**
   * Dot product of two trit vectors.
   *
   * @param a values in {-1, 0, 1}
   * @param b values in {-1, 0, 1}, same length
   * @return {@code Σ a[i]·b[i]}
   * @throws ShapeException if the lengths differ or a value is not a trit (naming its index)
   */
  public int dot(byte[] a, byte[] b) {
    Objects.requireNonNull(a, "a");
    Objects.requireNonNull(b, "b");
    if (a.length != b.length) {
      throw new ShapeException("trit vectors have different lengths " + a.length + " and " + b.length);
    }
    checkTrits(a, "a");
    checkTrits(b, "b");
    return kernels.dot(a, b);
  }

  private static void checkTrits(byte[] v, String name) {
    for (int i = 0; i < v.length; i++) {
      if (v[i] < -1 || v[i] > 1) {
        throw new ShapeException(name + "[" + i + "] is " + v[i] + ", expected -1, 0 or 1");
      }
    }
  }

  private static void checkOut(PackedTernary w, int batch, float[] y, float[] bias) {
    if (y.length != (long) batch * w.rows()) {
      throw new ShapeException("y has length " + y.length + " but W is " + w.rows() + "x" + w.cols() + " and batch is " + batch + " (expected " + (long) batch * w.rows() + ")");
    }
    if (bias != null && bias.length != w.rows()) {
      throw new ShapeException("bias has length " + bias.length + " but W has " + w.rows() + " rows");
    }
    if (bias == y) {
      throw new ShapeException("y is the same array as bias; the output must not alias the bias");
    }
  }

  @Override
  public String toString() {
    return "TernaryMatmul[" + vectorization + ", " + pool + "]";
  }
}
