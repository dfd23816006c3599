package dev.aphelion.tritter.compute;

import dev.aphelion.tritter.ternary.PackedTernary;

/**
 * The operations a decoder needs, on one backend's memory: a small typed interface in the shape of
 * DJL's {@code NDManager} and Lucene's {@code VectorizationProvider}, implemented by the CPU engine
 * and by the CUDA engine. Obtain it from a backend with {@code backend.operations(ComputeOps.class)}.
 *
 * <p>Every handle it returns ({@link Handle}) is owned by this object: closing a handle frees it
 * early, closing the ops frees all that are left. Operations are queued in call order and may run
 * asynchronously; {@link #read} waits for the queued work. Handles of one ops object must not be
 * passed to another. Arguments name rows of activations: {@code rows} is how many rows of the
 * handles an operation reads and writes, at most their {@link Activations#rows()}.
 *
 * <p>Not thread-safe: one thread (or external locking) per ops object.
 *
 * <p>Numerics: the CPU implementation is the reference (it is the arithmetic of {@code
 * DecoderModel} on the CPU). Integer parts (int8 activation quantization, ternary x int8 sums) are
 * exact on every implementation; float reductions (norms, dot products, softmax) may sum in
 * another order, and each implementation documents its bound.
 */
public interface ComputeOps extends AutoCloseable {

  /** The gated feed-forward activation {@code gate = act(gate) ⊙ up}. */
  enum GatedActivation {
    /** {@code act(g) = max(g, 0)²} (BitNet b1.58 2B4T). */
    SQUARED_RELU,
    /** {@code act(g) = g · sigmoid(g)} (SwiGLU). */
    SILU
  }

  /** A backend-owned resource; closing it twice has no effect. */
  interface Handle extends AutoCloseable {
    /** Frees the resource now instead of when the ops close. */
    @Override
    void close();
  }

  /** Row-major f32 activations {@code [rows][cols]} in backend memory. */
  interface Activations extends Handle {
    /** Rows it holds. */
    int rows();

    /** Floats per row. */
    int cols();
  }

  /** Int32 indices (token ids, positions, sequence indices) in backend memory. */
  interface Indices extends Handle {
    /** How many it holds. */
    int length();
  }

  /** Per-token int8 activations with one scale per row, the input of a W1.58A8 product. */
  interface QuantizedRows extends Handle {
    /** Rows it holds. */
    int rows();

    /** Values per row. */
    int cols();
  }

  /** A weight matrix {@code [rows][cols]} (ternary or dense) with an optional bias, uploaded once. */
  interface Weights extends Handle {
    /** Output features. */
    int rows();

    /** Input features. */
    int cols();
  }

  /** A vector of floats (a norm's gain). */
  interface Vector extends Handle {
    /** Its length. */
    int length();
  }

  /** An embedding table {@code [vocab][dim]}, f32 or int8 with one scale per row, uploaded once. */
  interface Table extends Handle {
    /** Rows (tokens). */
    int vocab();

    /** Columns. */
    int dim();
  }

  /** Rotary-embedding angles for positions {@code [0, positions)} of heads of {@code headDim}. */
  interface RopeTable extends Handle {
    /** Positions covered. */
    int positions();

    /** Elements per head. */
    int headDim();
  }

  /**
   * Keys and values of {@code layers} layers for {@code sequences} sequences, {@code capacity}
   * positions each, in backend memory.
   */
  interface KvStore extends Handle {
    /** Layers. */
    int layers();

    /** Sequences. */
    int sequences();

    /** KV heads. */
    int kvHeads();

    /** Elements per head. */
    int headDim();

    /** Positions per sequence. */
    int capacity();
  }

  /** Work recorded once and replayed (a CUDA graph on the GPU, the recorded calls on the CPU). */
  interface Replay extends Handle {
    /** Queues the recorded work again, with the handles' current contents. */
    void run();
  }

  /**
   * The name of the backend these operations run on.
   *
   * @return the backend name, for example {@code "cuda"}
   */
  String backendName();

  // ---- memory -------------------------------------------------------------------------------

  /**
   * Allocates activations (contents undefined until written).
   *
   * @param rows rows, at least 1
   * @param cols floats per row, at least 1
   * @return the handle
   */
  Activations allocate(int rows, int cols);

  /**
   * Allocates indices (contents undefined until written).
   *
   * @param length at least 1
   * @return the handle
   */
  Indices allocateIndices(int length);

  /**
   * Allocates room for the int8 form of {@code rows} activation rows of {@code cols}.
   *
   * @param rows rows, at least 1
   * @param cols values per row
   * @return the handle
   */
  QuantizedRows allocateQuantized(int rows, int cols);

  /**
   * Allocates a KV store (contents undefined until stored).
   *
   * @param layers layers
   * @param sequences sequences
   * @param kvHeads KV heads
   * @param headDim elements per head
   * @param capacity positions per sequence
   * @return the handle
   */
  KvStore allocateKv(int layers, int sequences, int kvHeads, int headDim, int capacity);

  /**
   * Copies host floats into the first {@code rows} rows.
   *
   * @param dst the activations
   * @param src {@code rows·cols} floats
   * @param rows rows to write
   */
  void write(Activations dst, float[] src, int rows);

  /**
   * Copies host ints into indices.
   *
   * @param dst the indices
   * @param src at most {@code dst.length()} ints, written from index 0
   */
  void write(Indices dst, int[] src);

  /**
   * Waits for queued work and copies the first {@code rows} rows to the host.
   *
   * @param src the activations
   * @param dst receives {@code rows·cols} floats
   * @param rows rows to read
   */
  void read(Activations src, float[] dst, int rows);

  // ---- weights, uploaded once --------------------------------------------------------------

  /**
   * Uploads packed ternary weights for W1.58A8 products.
   *
   * @param weights the matrix
   * @param bias {@code weights.rows()} biases, or {@code null}
   * @return the handle
   * @throws dev.aphelion.core.error.ShapeException if this backend cannot hold the scale layout
   */
  Weights uploadTernary(PackedTernary weights, float[] bias);

  /**
   * Uploads dense f32 weights.
   *
   * @param weights {@code rows·cols} floats, row-major
   * @param rows output features
   * @param cols input features
   * @param bias {@code rows} biases, or {@code null}
   * @return the handle
   */
  Weights uploadDense(float[] weights, int rows, int cols, float[] bias);

  /**
   * Uploads a vector.
   *
   * @param values the floats
   * @return the handle
   */
  Vector uploadVector(float[] values);

  /**
   * Uploads an embedding table, either f32 ({@code int8 == null}) or int8 with row scales.
   *
   * @param f32 {@code vocab·dim} floats, or {@code null}
   * @param int8 {@code vocab·dim} signed values, or {@code null}
   * @param rowScales {@code vocab} scales when {@code int8} is given
   * @param vocab rows
   * @param dim columns
   * @return the handle
   */
  Table uploadTable(float[] f32, byte[] int8, float[] rowScales, int vocab, int dim);

  /**
   * Builds the rotary angles {@code position · theta^(-2i/headDim)} (computed in double, rounded
   * once to float) for {@code [0, positions)}.
   *
   * @param headDim elements per head, even
   * @param theta the base
   * @param positions positions covered
   * @return the handle
   */
  RopeTable uploadRope(int headDim, double theta, int positions);

  // ---- operations ---------------------------------------------------------------------------

  /**
   * Looks up rows: {@code out[r] = table[tokens[r]]} (dequantized).
   *
   * @param table the table
   * @param tokens token ids in {@code [0, vocab)}
   * @param rows rows
   * @param out {@code [rows][dim]}
   */
  void embed(Table table, Indices tokens, int rows, Activations out);

  /**
   * The output head: {@code out[r][v] = table[v] · x[r]}.
   *
   * @param table the table
   * @param x {@code [rows][dim]}
   * @param rows rows
   * @param out {@code [rows][vocab]}
   */
  void logits(Table table, Activations x, int rows, Activations out);

  /**
   * RMSNorm: {@code y = x / sqrt(mean(x²) + eps) ⊙ gain}; {@code y} may be {@code x}.
   *
   * @param x input rows of {@code gain.length()}
   * @param gain the gain
   * @param eps the epsilon
   * @param rows rows
   * @param y output rows
   */
  void rmsNorm(Activations x, Vector gain, float eps, int rows, Activations y);

  /**
   * Per-token int8 quantization ({@code scale = max|x| / 127}, round half away from zero).
   *
   * @param x {@code [rows][cols]}
   * @param rows rows
   * @param out the int8 rows
   */
  void quantize(Activations x, int rows, QuantizedRows out);

  /**
   * W1.58A8 product {@code y = (W·q) ⊙ wScale · xScale + b} of ternary weights and quantized rows.
   *
   * @param w ternary weights
   * @param x quantized rows of {@code w.cols()}
   * @param rows rows
   * @param y {@code [rows][w.rows()]}
   */
  void matmul(Weights w, QuantizedRows x, int rows, Activations y);

  /**
   * Dense product {@code y = x·Wᵀ + b}.
   *
   * @param w dense weights
   * @param x {@code [rows][w.cols()]}
   * @param rows rows
   * @param y {@code [rows][w.rows()]}
   */
  void matmul(Weights w, Activations x, int rows, Activations y);

  /**
   * Rotates {@code heads} heads of each row in place ("rotate half" convention) by its position.
   *
   * @param x {@code [rows][heads·headDim]}
   * @param rows rows
   * @param heads heads per row
   * @param table the angles
   * @param positions one position per row, below {@code table.positions()}
   */
  void rope(Activations x, int rows, int heads, RopeTable table, Indices positions);

  /**
   * Stores each row's keys and values at (sequence, position) of {@code layer}, then computes
   * causal grouped-query attention of each row's query heads over positions {@code [0, position]}
   * of its sequence: {@code out = softmax(q·Kᵀ · scale) · V}. Rows of one sequence must be
   * consecutive positions, and positions below the first row's must have been stored before.
   *
   * @param kv the store
   * @param layer the layer
   * @param q {@code [rows][heads·headDim]}
   * @param k {@code [rows][kvHeads·headDim]}
   * @param v {@code [rows][kvHeads·headDim]}
   * @param rows rows
   * @param heads query heads (a multiple of the store's KV heads)
   * @param seqs one sequence per row
   * @param positions one position per row, below the capacity
   * @param scale the score scale
   * @param out {@code [rows][heads·headDim]}
   */
  void attend(KvStore kv, int layer, Activations q, Activations k, Activations v, int rows, int heads, Indices seqs,
      Indices positions, float scale, Activations out);

  /**
   * Rotates the query and key heads of each row by its position, then stores and attends as
   * {@link #attend}: the same results as {@code rope(q, rows, heads, table, positions)}, {@code
   * rope(k, rows, kv.kvHeads(), table, positions)} and {@code attend(...)}, which is what the
   * default does; a backend may fuse them (the GPU rotates and stores in one kernel).
   *
   * @param kv the store
   * @param layer the layer
   * @param table the rotary angles
   * @param q {@code [rows][heads·headDim]}, rotated in place
   * @param k {@code [rows][kvHeads·headDim]}, rotated in place
   * @param v {@code [rows][kvHeads·headDim]}
   * @param rows rows
   * @param heads query heads (a multiple of the store's KV heads)
   * @param seqs one sequence per row
   * @param positions one position per row, below the capacity and the table's positions
   * @param scale the score scale
   * @param out {@code [rows][heads·headDim]}
   */
  default void ropeAttend(KvStore kv, int layer, RopeTable table, Activations q, Activations k, Activations v, int rows,
      int heads, Indices seqs, Indices positions, float scale, Activations out) {
    rope(q, rows, heads, table, positions);
    rope(k, rows, kv.kvHeads(), table, positions);
    attend(kv, layer, q, k, v, rows, heads, seqs, positions, scale, out);
  }

  /**
   * Quantizes {@code x} into {@code q} and multiplies it by one to three ternary matrices of its
   * width (the q, k and v projections of one input, or gate and up); with a {@code residual}
   * (one matrix only) then adds the product into it: the same results as {@code quantize(x,
   * rows, q)}, {@code matmul(w[i], q, rows, y[i])} for each {@code i} and {@code add(residual,
   * y[0], rows)}, which is what the default does. A backend may fuse them (the GPU quantizes in
   * the GEMV's prologue for one row).
   *
   * @param x {@code [rows][cols]}
   * @param rows rows
   * @param q int8 rows of {@code cols}, holding {@code x} quantized afterwards
   * @param w one to three ternary matrices of {@code cols} columns
   * @param y one output per matrix, {@code [rows][w[i].rows()]}
   * @param residual {@code null}, or {@code [rows][w[0].rows()]} to add {@code y[0]} to
   * @throws IllegalArgumentException if the counts do not match or a residual comes with more
   *     than one matrix
   */
  default void project(Activations x, int rows, QuantizedRows q, Weights[] w, Activations[] y, Activations residual) {
    if (w.length < 1 || w.length > 3 || y.length != w.length || (residual != null && w.length != 1)) {
      throw new IllegalArgumentException("project takes 1 to 3 matrices with one output each, and a residual with one only; got "
          + w.length + " matrices, " + y.length + " outputs" + (residual != null ? " and a residual" : ""));
    }
    quantize(x, rows, q);
    for (int i = 0; i < w.length; i++) {
      matmul(w[i], q, rows, y[i]);
    }
    if (residual != null) {
      add(residual, y[0], rows);
    }
  }

  /**
   * RMS-normalizes {@code x} and projects the result: the same as {@code rmsNorm(x, gain, eps,
   * rows, normed)} followed by {@code project(normed, rows, q, w, y, residual)}, which is what
   * the default does. A backend may fuse the norm into the projection (the GPU normalizes in the
   * GEMV's prologue for one row) and then leaves {@code normed} unwritten, so read the
   * projections' outputs, not {@code normed}, afterwards.
   *
   * @param x {@code [rows][cols]}
   * @param gain the norm's {@code cols} weights
   * @param eps added to the mean square
   * @param normed {@code [rows][cols]} scratch for the normalized rows (may be {@code x})
   * @param rows rows
   * @param q int8 rows of {@code cols}
   * @param w one to three ternary matrices of {@code cols} columns
   * @param y one output per matrix, {@code [rows][w[i].rows()]}
   * @param residual {@code null}, or {@code [rows][w[0].rows()]} to add {@code y[0]} to
   * @throws IllegalArgumentException as {@link #project}
   */
  default void normProject(Activations x, Vector gain, float eps, Activations normed, int rows, QuantizedRows q, Weights[] w,
      Activations[] y, Activations residual) {
    rmsNorm(x, gain, eps, rows, normed);
    project(normed, rows, q, w, y, residual);
  }

  /**
   * {@code x += y} over {@code rows} rows.
   *
   * @param x accumulated into
   * @param y added
   * @param rows rows
   */
  void add(Activations x, Activations y, int rows);

  /**
   * {@code gate = act(gate) ⊙ up} over {@code rows} rows.
   *
   * @param activation the activation
   * @param gate overwritten
   * @param up the other factor
   * @param rows rows
   */
  void gated(GatedActivation activation, Activations gate, Activations up, int rows);

  /**
   * Copies {@code rows} rows: {@code dst[dstRow + i] = src[srcRow + i]}.
   *
   * @param src the source
   * @param srcRow first source row
   * @param dst the destination (same width)
   * @param dstRow first destination row
   * @param rows rows
   */
  void copyRows(Activations src, int srcRow, Activations dst, int dstRow, int rows);

  /**
   * Records the operations {@code work} queues, to replay them later without per-operation host
   * cost. Nothing but operations on existing handles may happen inside {@code work} (no
   * allocation, reads or writes). Recording does not run the work: {@link Replay#run()} does.
   *
   * @param work queues the operations
   * @return the replayable work
   */
  Replay record(Runnable work);

  /** Frees every handle still open; calling it again has no effect. */
  @Override
  void close();
}
