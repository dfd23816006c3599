package dev.aphelion.cuda.compute;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.cuda.driver.CudaContext;
import dev.aphelion.cuda.driver.CudaGraph;
import dev.aphelion.cuda.driver.CudaKernel;
import dev.aphelion.cuda.driver.CudaModule;
import dev.aphelion.cuda.driver.CudaStream;
import dev.aphelion.cuda.driver.DeviceBuffer;
import dev.aphelion.cuda.ternary.CudaTernaryKernels;
import dev.aphelion.cuda.ternary.GpuTernaryMatrix;
import dev.aphelion.cuda.ternary.Int8Input;
import dev.aphelion.cuda.ternary.KernelImage;
import dev.aphelion.tritter.compute.ComputeOps;
import dev.aphelion.tritter.ternary.PackedTernary;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * {@link ComputeOps} on one CUDA device: every handle is device memory, every operation a kernel
 * queued on the ternary kernels' stream, {@link #record} a CUDA graph. A decode step therefore
 * makes no host round trip between layers: the host writes token ids and positions, replays the
 * graph and reads the logits.
 *
 * <p>Numerics against the CPU operations ({@code CpuComputeOps}): int8 activation quantization
 * and the ternary x int8 products are exact (the W1.58A8 kernels of {@link CudaTernaryKernels});
 * embedding, RoPE, additions, copies and the squared-ReLU gate use round-to-nearest intrinsics
 * without contraction and are exact too. RMSNorm's sum of squares, the output head's and dense
 * layers' dot products, softmax ({@code expf}, summed per 64-position split and combined) and
 * SiLU sum or round differently; a whole random decoder stays within {@code 1e-3 · max(1,
 * max|logit|)} of the CPU in the tests (an int8 rounding flip on a tie can move a few logits by
 * more, so they also check how many do).
 *
 * <p>Checks on indices (token ids, positions, sequences) are made on the host, against the values
 * last written to the handle; a replayed graph uses whatever was written since, and its kernels
 * skip rows whose indices are out of range instead of reading out of bounds.
 *
 * <p>Not thread-safe.
 */
public final class CudaComputeOps implements ComputeOps {

  private static final int THREADS = 256;
  private static final int ATT_CHUNK = 64;
  /** {@code -Daphelion.cuda.fusedProjections=false} takes the unfused calls, to measure what the fusion pays. */
  private static final boolean FUSED_PROJECTIONS =
      Boolean.parseBoolean(System.getProperty("aphelion.cuda.fusedProjections", "true"));

  private final String backendName;
  private final CudaTernaryKernels kernels;
  private final CudaContext context;
  private final CudaStream stream;
  private final CudaModule module;
  private final CudaKernel embedS8;
  private final CudaKernel embedF32;
  private final CudaKernel rmsNorm;
  private final CudaKernel rope;
  private final CudaKernel kvStore;
  private final CudaKernel ropeKvStore;
  private final CudaKernel attend;
  private final CudaKernel add;
  private final CudaKernel addBias;
  private final CudaKernel gated;
  private final CudaKernel copy;
  private final CudaKernel matvecS8;
  private final CudaKernel matvecF32;
  private final List<Owned> handles = new ArrayList<>();
  private DeviceBuffer scratch;
  /** One counter per (row, head) of the attention's splits, zero between launches. */
  private DeviceBuffer attendCounters;
  private boolean capturing;
  private boolean closed;

  /**
   * Loads the decoder kernels next to {@code kernels} (same context and stream).
   *
   * @param kernels the ternary kernels, which stay the caller's
   * @param backendName the name reported by {@link #backendName()}
   */
  public CudaComputeOps(CudaTernaryKernels kernels, String backendName) {
    this.kernels = Objects.requireNonNull(kernels, "kernels");
    this.backendName = Objects.requireNonNull(backendName, "backendName");
    this.context = kernels.context();
    this.stream = kernels.stream();
    CudaModule m = context.loadModule(KernelImage.fatbin());
    try {
      embedS8 = m.kernel("aph_dec_embed_s8");
      embedF32 = m.kernel("aph_dec_embed_f32");
      rmsNorm = m.kernel("aph_dec_rmsnorm");
      rope = m.kernel("aph_dec_rope");
      kvStore = m.kernel("aph_dec_kv_store");
      ropeKvStore = m.kernel("aph_dec_rope_kv_store");
      attend = m.kernel("aph_dec_attend");
      add = m.kernel("aph_dec_add");
      addBias = m.kernel("aph_dec_add_bias");
      gated = m.kernel("aph_dec_gated");
      copy = m.kernel("aph_dec_copy");
      matvecS8 = m.kernel("aph_dec_matvec_s8");
      matvecF32 = m.kernel("aph_dec_matvec_f32");
    } catch (RuntimeException e) {
      m.close();
      throw e;
    }
    this.module = m;
  }

  // ---- handles ------------------------------------------------------------------------------

  private abstract class Owned implements Handle {
    private final List<AutoCloseable> parts = new ArrayList<>();
    private boolean freed;

    Owned() {
      handles.add(this);
    }

    final <T extends AutoCloseable> T part(T p) {
      parts.add(p);
      return p;
    }

    final void check() {
      if (freed) {
        throw new IllegalStateException(getClass().getSimpleName() + " handle is closed");
      }
    }

    final CudaComputeOps owner() {
      return CudaComputeOps.this;
    }

    @Override
    public void close() {
      if (freed) {
        return;
      }
      freed = true;
      handles.remove(this);
      free();
    }

    void free() {
      RuntimeException failure = null;
      for (AutoCloseable p : parts) {
        try {
          p.close();
        } catch (Exception e) {
          if (failure == null) {
            failure = e instanceof RuntimeException re ? re : new IllegalStateException(e);
          }
        }
      }
      if (failure != null) {
        throw failure;
      }
    }
  }

  private final class Act extends Owned implements Activations {
    final int rows;
    final int cols;
    final DeviceBuffer buf;

    Act(int rows, int cols) {
      this.rows = rows;
      this.cols = cols;
      this.buf = part(context.allocate(4L * rows * cols));
    }

    @Override
    public int rows() {
      return rows;
    }

    @Override
    public int cols() {
      return cols;
    }
  }

  private final class Idx extends Owned implements Indices {
    final DeviceBuffer buf;
    final int[] mirror;

    Idx(int n) {
      this.buf = part(context.allocate(4L * n));
      this.mirror = new int[n];
    }

    @Override
    public int length() {
      return mirror.length;
    }
  }

  private final class Quant extends Owned implements QuantizedRows {
    final Int8Input in;
    final int rows;
    final int cols;

    Quant(int rows, int cols) {
      this.in = part(kernels.allocateInput(cols, rows));
      this.rows = rows;
      this.cols = cols;
    }

    @Override
    public int rows() {
      return rows;
    }

    @Override
    public int cols() {
      return cols;
    }
  }

  private final class Lin extends Owned implements Weights {
    final GpuTernaryMatrix ternary;
    final DeviceBuffer dense;
    final DeviceBuffer bias;
    final int rows;
    final int cols;

    Lin(GpuTernaryMatrix ternary, DeviceBuffer dense, float[] bias, int rows, int cols) {
      this.ternary = ternary == null ? null : part(ternary);
      this.dense = dense == null ? null : part(dense);
      this.rows = rows;
      this.cols = cols;
      if (bias != null) {
        this.bias = part(context.allocate(4L * bias.length));
        this.bias.write(bias, 0);
      } else {
        this.bias = null;
      }
    }

    @Override
    public int rows() {
      return rows;
    }

    @Override
    public int cols() {
      return cols;
    }
  }

  private final class Vec extends Owned implements Vector {
    final DeviceBuffer buf;
    final int length;

    Vec(float[] v) {
      this.length = v.length;
      this.buf = part(context.allocate(4L * v.length));
      buf.write(v, 0);
    }

    @Override
    public int length() {
      return length;
    }
  }

  private final class Tab extends Owned implements Table {
    final DeviceBuffer f32;
    final DeviceBuffer q8;
    final DeviceBuffer scales;
    final int vocab;
    final int dim;

    Tab(float[] f, byte[] q, float[] s, int vocab, int dim) {
      this.vocab = vocab;
      this.dim = dim;
      if (f != null) {
        f32 = part(context.allocate(4L * f.length));
        f32.write(f, 0);
        q8 = null;
        scales = null;
      } else {
        f32 = null;
        q8 = part(context.allocate(q.length));
        q8.write(q, 0);
        scales = part(context.allocate(4L * s.length));
        scales.write(s, 0);
      }
    }

    @Override
    public int vocab() {
      return vocab;
    }

    @Override
    public int dim() {
      return dim;
    }
  }

  private final class Rope extends Owned implements RopeTable {
    final DeviceBuffer cos;
    final DeviceBuffer sin;
    final int headDim;
    final int positions;

    Rope(int headDim, double theta, int positions) {
      if (headDim <= 0 || headDim % 2 != 0) {
        throw new IllegalArgumentException("headDim must be positive and even, got " + headDim);
      }
      this.headDim = headDim;
      this.positions = positions;
      int half = headDim / 2;
      // The CPU's RotaryEmbedding formula: angle in double, rounded once to float.
      double[] invFreq = new double[half];
      for (int i = 0; i < half; i++) {
        invFreq[i] = Math.pow(theta, -2.0 * i / headDim);
      }
      float[] c = new float[Math.multiplyExact(positions, half)];
      float[] s = new float[c.length];
      for (int p = 0; p < positions; p++) {
        for (int i = 0; i < half; i++) {
          double a = p * invFreq[i];
          c[p * half + i] = (float) Math.cos(a);
          s[p * half + i] = (float) Math.sin(a);
        }
      }
      this.cos = part(context.allocate(4L * c.length));
      cos.write(c, 0);
      this.sin = part(context.allocate(4L * s.length));
      sin.write(s, 0);
    }

    @Override
    public int positions() {
      return positions;
    }

    @Override
    public int headDim() {
      return headDim;
    }
  }

  private final class Kv extends Owned implements KvStore {
    final int layers;
    final int sequences;
    final int kvHeads;
    final int headDim;
    final int capacity;
    final long layerFloats;
    final DeviceBuffer keys;
    final DeviceBuffer values;

    Kv(int layers, int sequences, int kvHeads, int headDim, int capacity) {
      this.layers = layers;
      this.sequences = sequences;
      this.kvHeads = kvHeads;
      this.headDim = headDim;
      this.capacity = capacity;
      this.layerFloats = (long) sequences * kvHeads * capacity * headDim;
      this.keys = part(context.allocate(4L * layers * layerFloats));
      this.values = part(context.allocate(4L * layers * layerFloats));
    }

    @Override
    public int layers() {
      return layers;
    }

    @Override
    public int sequences() {
      return sequences;
    }

    @Override
    public int kvHeads() {
      return kvHeads;
    }

    @Override
    public int headDim() {
      return headDim;
    }

    @Override
    public int capacity() {
      return capacity;
    }
  }

  private final class Graph extends Owned implements Replay {
    final CudaGraph graph;

    Graph(CudaGraph graph) {
      this.graph = part(graph);
    }

    @Override
    public void run() {
      check();
      ensureOpen();
      graph.launch(stream);
    }
  }

  private <T extends Owned> T own(Object handle, Class<T> type, String what) {
    Objects.requireNonNull(handle, what);
    ensureOpen();
    if (!type.isInstance(handle) || type.cast(handle).owner() != this) {
      throw new IllegalArgumentException(what + " is not a handle of these " + backendName + " operations: " + handle);
    }
    T t = type.cast(handle);
    t.check();
    return t;
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("the " + backendName + " compute operations are closed");
    }
  }

  private void noAllocationWhileRecording(String what) {
    if (capturing) {
      throw new IllegalStateException(what + " inside record(): only operations on existing handles can be recorded");
    }
  }

  private static void checkRows(int rows, int capacity, String what) {
    if (rows < 1 || rows > capacity) {
      throw new ShapeException(what + ": rows " + rows + " outside [1, " + capacity + "]");
    }
  }

  private static void checkCols(int cols, int expected, String what) {
    if (cols != expected) {
      throw new ShapeException(what + " has " + cols + " columns, expected " + expected);
    }
  }

  private static int[] grid1(long n) {
    return new int[] {(int) ((n + THREADS - 1) / THREADS)};
  }

  /** Threads per block of the one-row-per-block kernels (RMSNorm, RoPE with the KV store): latency-bound rows. */
  private static final int ROW_THREADS = 1024;

  private static int[] block() {
    return new int[] {THREADS};
  }

  // ---- ComputeOps ---------------------------------------------------------------------------

  @Override
  public String backendName() {
    return backendName;
  }

  @Override
  public Activations allocate(int rows, int cols) {
    ensureOpen();
    noAllocationWhileRecording("allocate");
    if (rows < 1 || cols < 1) {
      throw new ShapeException("activations need at least one row and column, got " + rows + "x" + cols);
    }
    return new Act(rows, cols);
  }

  @Override
  public Indices allocateIndices(int length) {
    ensureOpen();
    noAllocationWhileRecording("allocateIndices");
    if (length < 1) {
      throw new ShapeException("indices need a length of at least 1, got " + length);
    }
    return new Idx(length);
  }

  @Override
  public QuantizedRows allocateQuantized(int rows, int cols) {
    ensureOpen();
    noAllocationWhileRecording("allocateQuantized");
    if (rows < 1 || cols < 1) {
      throw new ShapeException("quantized rows need at least one row and column, got " + rows + "x" + cols);
    }
    return new Quant(rows, cols);
  }

  @Override
  public KvStore allocateKv(int layers, int sequences, int kvHeads, int headDim, int capacity) {
    ensureOpen();
    noAllocationWhileRecording("allocateKv");
    if (layers < 1 || sequences < 1 || kvHeads < 1 || headDim < 1 || capacity < 1) {
      throw new ShapeException("KV store dimensions must be positive: layers " + layers + ", sequences " + sequences
          + ", kvHeads " + kvHeads + ", headDim " + headDim + ", capacity " + capacity);
    }
    return new Kv(layers, sequences, kvHeads, headDim, capacity);
  }

  @Override
  public void write(Activations dst, float[] src, int rows) {
    Act a = own(dst, Act.class, "dst");
    noAllocationWhileRecording("write");
    checkRows(rows, a.rows, "write");
    int n = rows * a.cols;
    if (src.length < n) {
      throw new ShapeException("write of " + rows + " rows needs " + n + " floats, got " + src.length);
    }
    stream.synchronize();
    a.buf.write(src.length == n ? src : java.util.Arrays.copyOf(src, n), 0);
  }

  @Override
  public void write(Indices dst, int[] src) {
    Idx a = own(dst, Idx.class, "dst");
    noAllocationWhileRecording("write");
    if (src.length > a.mirror.length) {
      throw new ShapeException(src.length + " indices do not fit in " + a.mirror.length);
    }
    // Queued work may still read the old values: the copy below is synchronous on another stream.
    stream.synchronize();
    a.buf.write(src, 0);
    System.arraycopy(src, 0, a.mirror, 0, src.length);
  }

  @Override
  public void read(Activations src, float[] dst, int rows) {
    Act a = own(src, Act.class, "src");
    noAllocationWhileRecording("read");
    checkRows(rows, a.rows, "read");
    int n = rows * a.cols;
    if (dst.length < n) {
      throw new ShapeException("read of " + rows + " rows needs " + n + " floats, got " + dst.length);
    }
    stream.synchronize();
    if (dst.length == n) {
      a.buf.read(dst, 0);
    } else {
      float[] t = new float[n];
      a.buf.read(t, 0);
      System.arraycopy(t, 0, dst, 0, n);
    }
  }

  @Override
  public Weights uploadTernary(PackedTernary weights, float[] bias) {
    ensureOpen();
    noAllocationWhileRecording("uploadTernary");
    Objects.requireNonNull(weights, "weights");
    if (bias != null && bias.length != weights.rows()) {
      throw new ShapeException("bias of " + bias.length + " for " + weights.rows() + " rows");
    }
    GpuTernaryMatrix m = kernels.upload(weights);
    try {
      return new Lin(m, null, bias, weights.rows(), weights.cols());
    } catch (RuntimeException e) {
      m.close();
      throw e;
    }
  }

  @Override
  public Weights uploadDense(float[] weights, int rows, int cols, float[] bias) {
    ensureOpen();
    noAllocationWhileRecording("uploadDense");
    Objects.requireNonNull(weights, "weights");
    if (rows < 1 || cols < 1 || weights.length != (long) rows * cols || (bias != null && bias.length != rows)) {
      throw new ShapeException("dense weights [" + rows + ", " + cols + "] need " + (long) rows * cols + " floats and "
          + rows + " biases, got " + weights.length + " and " + (bias == null ? 0 : bias.length));
    }
    DeviceBuffer w = context.allocate(4L * weights.length);
    try {
      w.write(weights, 0);
      return new Lin(null, w, bias, rows, cols);
    } catch (RuntimeException e) {
      w.close();
      throw e;
    }
  }

  @Override
  public Vector uploadVector(float[] values) {
    ensureOpen();
    noAllocationWhileRecording("uploadVector");
    if (values.length == 0) {
      throw new ShapeException("empty vector");
    }
    return new Vec(values);
  }

  @Override
  public Table uploadTable(float[] f32, byte[] int8, float[] rowScales, int vocab, int dim) {
    ensureOpen();
    noAllocationWhileRecording("uploadTable");
    if ((f32 == null) == (int8 == null)) {
      throw new IllegalArgumentException("give either f32 or int8 values");
    }
    long n = (long) vocab * dim;
    if (vocab < 1 || dim < 1 || (f32 != null ? f32.length : int8.length) != n
        || (int8 != null && (rowScales == null || rowScales.length != vocab))) {
      throw new ShapeException("embedding [" + vocab + ", " + dim + "] needs " + n + " values" + (int8 != null ? " and " + vocab
          + " scales" : ""));
    }
    return new Tab(f32, int8, rowScales, vocab, dim);
  }

  @Override
  public RopeTable uploadRope(int headDim, double theta, int positions) {
    ensureOpen();
    noAllocationWhileRecording("uploadRope");
    if (positions < 1) {
      throw new ShapeException("rope table needs at least one position, got " + positions);
    }
    return new Rope(headDim, theta, positions);
  }

  @Override
  public void embed(Table table, Indices tokens, int rows, Activations out) {
    Tab t = own(table, Tab.class, "table");
    Idx ix = own(tokens, Idx.class, "tokens");
    Act o = own(out, Act.class, "out");
    checkRows(rows, Math.min(ix.mirror.length, o.rows), "embed");
    checkCols(o.cols, t.dim, "embed output");
    for (int r = 0; r < rows; r++) {
      if (ix.mirror[r] < 0 || ix.mirror[r] >= t.vocab) {
        throw new ShapeException("token " + ix.mirror[r] + " at row " + r + " outside the vocabulary [0, " + t.vocab + ")");
      }
    }
    if (t.q8 != null) {
      embedS8.launch(stream, new int[] {rows}, block(), 0, t.q8, t.scales, ix.buf, t.vocab, t.dim, o.buf);
    } else {
      embedF32.launch(stream, new int[] {rows}, block(), 0, t.f32, ix.buf, t.vocab, t.dim, o.buf);
    }
  }

  @Override
  public void logits(Table table, Activations x, int rows, Activations out) {
    Tab t = own(table, Tab.class, "table");
    Act in = own(x, Act.class, "x");
    Act o = own(out, Act.class, "out");
    checkRows(rows, Math.min(in.rows, o.rows), "logits");
    checkCols(in.cols, t.dim, "logits input");
    checkCols(o.cols, t.vocab, "logits output");
    int[] grid = {(t.vocab + 7) / 8};
    if (t.q8 != null) {
      matvecS8.launch(stream, grid, block(), 0, t.q8, t.scales, in.buf, t.dim, t.vocab, rows, o.buf);
    } else {
      matvecF32.launch(stream, grid, block(), 0, t.f32, 0L, in.buf, t.dim, t.vocab, rows, o.buf);
    }
  }

  @Override
  public void rmsNorm(Activations x, Vector gain, float eps, int rows, Activations y) {
    Act in = own(x, Act.class, "x");
    Vec g = own(gain, Vec.class, "gain");
    Act out = own(y, Act.class, "y");
    checkRows(rows, Math.min(in.rows, out.rows), "rmsNorm");
    checkCols(in.cols, g.length, "rmsNorm input");
    checkCols(out.cols, g.length, "rmsNorm output");
    // one row per block at 1024 threads: a decode step's norms are latency-bound single rows
    rmsNorm.launch(stream, new int[] {rows}, new int[] {ROW_THREADS}, 0, in.buf, g.buf, eps, g.length, out.buf);
  }

  @Override
  public void quantize(Activations x, int rows, QuantizedRows out) {
    Act in = own(x, Act.class, "x");
    Quant q = own(out, Quant.class, "out");
    checkRows(rows, Math.min(in.rows, q.rows), "quantize");
    checkCols(in.cols, q.cols, "quantize input");
    kernels.quantize(q.in, in.buf, in.cols, rows);
  }

  @Override
  public void matmul(Weights w, QuantizedRows x, int rows, Activations y) {
    Lin l = own(w, Lin.class, "w");
    Quant q = own(x, Quant.class, "x");
    Act out = own(y, Act.class, "y");
    if (l.ternary == null) {
      throw new IllegalArgumentException("int8 rows need ternary weights; " + w + " is dense");
    }
    if (q.in.batch() != rows) {
      throw new IllegalStateException("the quantized rows hold " + q.in.batch() + " rows, not " + rows + "; quantize first");
    }
    checkCols(q.cols, l.cols, "int8 rows");
    checkRows(rows, out.rows, "matmul");
    checkCols(out.cols, l.rows, "matmul output");
    kernels.multiply(l.ternary, q.in, out.buf, out.cols);
    if (l.bias != null) {
      long n = (long) rows * out.cols;
      addBias.launch(stream, grid1(n), block(), 0, out.buf, l.bias, out.cols, n);
    }
  }

  @Override
  public void matmul(Weights w, Activations x, int rows, Activations y) {
    Lin l = own(w, Lin.class, "w");
    Act in = own(x, Act.class, "x");
    Act out = own(y, Act.class, "y");
    if (l.dense == null) {
      throw new IllegalArgumentException("ternary weights take quantized rows; use quantize and matmul(Weights, QuantizedRows, ...)");
    }
    checkRows(rows, Math.min(in.rows, out.rows), "matmul");
    checkCols(in.cols, l.cols, "matmul input");
    checkCols(out.cols, l.rows, "matmul output");
    Object bias = l.bias != null ? l.bias : (Object) 0L;
    matvecF32.launch(stream, new int[] {(l.rows + 7) / 8}, block(), 0, l.dense, bias, in.buf, l.cols, l.rows, rows, out.buf);
  }

  @Override
  public void rope(Activations x, int rows, int heads, RopeTable table, Indices positions) {
    Act a = own(x, Act.class, "x");
    Rope r = own(table, Rope.class, "table");
    Idx p = own(positions, Idx.class, "positions");
    checkRows(rows, Math.min(a.rows, p.mirror.length), "rope");
    checkCols(a.cols, heads * r.headDim, "rope input");
    for (int i = 0; i < rows; i++) {
      if (p.mirror[i] < 0 || p.mirror[i] >= r.positions) {
        throw new ShapeException("position " + p.mirror[i] + " outside the rope table [0, " + r.positions + ")");
      }
    }
    rope.launch(stream, new int[] {rows}, block(), 0, a.buf, heads, r.headDim, r.cos, r.sin, p.buf, r.positions);
  }

  @Override
  public void attend(KvStore kv, int layer, Activations q, Activations k, Activations v, int rows, int heads, Indices seqs,
      Indices positions, float scale, Activations out) {
    attend(kv, layer, null, q, k, v, rows, heads, seqs, positions, scale, out);
  }

  /** Rotation and KV store in one kernel, the attention in a second (three unfused). */
  @Override
  public void ropeAttend(KvStore kv, int layer, RopeTable table, Activations q, Activations k, Activations v, int rows,
      int heads, Indices seqs, Indices positions, float scale, Activations out) {
    attend(kv, layer, own(table, Rope.class, "table"), q, k, v, rows, heads, seqs, positions, scale, out);
  }

  private void attend(KvStore kv, int layer, Rope rope, Activations q, Activations k, Activations v, int rows, int heads,
      Indices seqs, Indices positions, float scale, Activations out) {
    Kv c = own(kv, Kv.class, "kv");
    Act qa = own(q, Act.class, "q");
    Act ka = own(k, Act.class, "k");
    Act va = own(v, Act.class, "v");
    Act oa = own(out, Act.class, "out");
    Idx s = own(seqs, Idx.class, "seqs");
    Idx p = own(positions, Idx.class, "positions");
    Objects.checkIndex(layer, c.layers);
    int hd = c.headDim;
    if (heads % c.kvHeads != 0) {
      throw new ShapeException(heads + " query heads are not a multiple of " + c.kvHeads + " KV heads");
    }
    if (rope != null && rope.headDim != hd) {
      throw new ShapeException("rope table for heads of " + rope.headDim + ", the KV store has " + hd);
    }
    checkRows(rows, Math.min(Math.min(qa.rows, ka.rows), Math.min(Math.min(va.rows, oa.rows), Math.min(s.mirror.length,
        p.mirror.length))), "attend");
    checkCols(qa.cols, heads * hd, "query");
    checkCols(oa.cols, heads * hd, "attention output");
    checkCols(ka.cols, c.kvHeads * hd, "keys");
    checkCols(va.cols, c.kvHeads * hd, "values");
    for (int r = 0; r < rows; r++) {
      Objects.checkIndex(s.mirror[r], c.sequences);
      if (p.mirror[r] < 0 || p.mirror[r] >= c.capacity) {
        throw new ShapeException("position " + p.mirror[r] + " outside the KV store's capacity " + c.capacity);
      }
      if (rope != null && p.mirror[r] >= rope.positions) {
        throw new ShapeException("position " + p.mirror[r] + " outside the rope table [0, " + rope.positions + ")");
      }
    }
    int splits = (c.capacity + ATT_CHUNK - 1) / ATT_CHUNK;
    long sharedBytes = 4L * (5L * hd + splits);
    if (sharedBytes > 48 * 1024) {
      throw new ShapeException("attention over heads of " + hd + " and a capacity of " + c.capacity
          + " needs " + sharedBytes + " bytes of shared memory, above 48 KiB");
    }
    scratch = atLeast(scratch, 4L * rows * heads * splits * (hd + 2), "attention scratch for " + rows + " rows");
    DeviceBuffer counters = atLeast(attendCounters, 4L * rows * heads, "attention counters for " + rows + " rows");
    if (counters != attendCounters) {
      counters.fill((byte) 0);
      attendCounters = counters;
    }
    long kOff = 4L * layer * c.layerFloats;
    if (rope != null) {
      ropeKvStore.launch(stream, new int[] {rows}, new int[] {ROW_THREADS}, 0, qa.buf, ka.buf, va.buf, heads, c.kvHeads, hd,
          rope.cos, rope.sin, p.buf, rope.positions, s.buf, c.sequences, c.capacity, c.keys.address() + kOff, c.values.address() + kOff);
    } else {
      kvStore.launch(stream, new int[] {rows}, block(), 0, ka.buf, va.buf, c.kvHeads, hd, s.buf, p.buf, c.sequences, c.capacity,
          c.keys.address() + kOff, c.values.address() + kOff);
    }
    attend.launch(stream, new int[] {heads, splits, rows}, new int[] {128}, (int) sharedBytes, qa.buf, c.keys.address() + kOff,
        c.values.address() + kOff, s.buf, p.buf, heads, c.kvHeads, hd, c.sequences, c.capacity, scale, splits, scratch,
        attendCounters, oa.buf);
  }

  /**
   * {@code buf} if it is open and holds {@code bytes}, else a new buffer of that size (the old one
   * freed once the stream is done with it; one left closed by a failed allocation is replaced);
   * not while recording.
   */
  private DeviceBuffer atLeast(DeviceBuffer buf, long bytes, String what) {
    if (buf != null && !buf.isClosed() && buf.byteSize() >= bytes) {
      return buf;
    }
    noAllocationWhileRecording(what + " (run the work once before recording it)");
    if (buf != null) {
      stream.synchronize();
      buf.close();
    }
    return context.allocate(bytes);
  }

  /**
   * One row of ternary projections is one kernel: the int8 quantization is the GEMV's prologue,
   * the bias and the residual addition its epilogue ({@link CudaTernaryKernels#quantizeMultiply}),
   * with the same bits as the unfused calls; more rows take the unfused path.
   */
  @Override
  public void project(Activations x, int rows, QuantizedRows q, Weights[] w, Activations[] y, Activations residual) {
    Act in = own(x, Act.class, "x");
    if (rows != 1 || in.cols > kernels.fusedMaxCols() || !FUSED_PROJECTIONS) {
      ComputeOps.super.project(x, rows, q, w, y, residual);
      return;
    }
    fusedProject(in, null, 0f, rows, q, w, y, residual);
  }

  private void fusedProject(Act in, Vec gain, float eps, int rows, QuantizedRows q, Weights[] w, Activations[] y,
      Activations residual) {
    Quant qr = own(q, Quant.class, "q");
    Objects.requireNonNull(w, "w");
    Objects.requireNonNull(y, "y");
    if (w.length < 1 || w.length > 3 || y.length != w.length || (residual != null && w.length != 1)) {
      throw new IllegalArgumentException("project takes 1 to 3 matrices with one output each, and a residual with one only; got "
          + w.length + " matrices, " + y.length + " outputs" + (residual != null ? " and a residual" : ""));
    }
    Lin[] ls = new Lin[w.length];
    Act[] ys = new Act[w.length];
    for (int i = 0; i < w.length; i++) {
      ls[i] = own(w[i], Lin.class, "w[" + i + "]");
      ys[i] = own(y[i], Act.class, "y[" + i + "]");
      if (ls[i].ternary == null) {
        throw new IllegalArgumentException("project needs ternary weights; w[" + i + "] is dense");
      }
    }
    Act res = residual == null ? null : own(residual, Act.class, "residual");
    checkRows(rows, Math.min(in.rows, qr.rows), "project");
    checkCols(in.cols, qr.cols, "project input");
    GpuTernaryMatrix[] ms = new GpuTernaryMatrix[w.length];
    DeviceBuffer[] bs = new DeviceBuffer[w.length];
    DeviceBuffer[] outs = new DeviceBuffer[w.length];
    int[] ld = new int[w.length];
    for (int i = 0; i < w.length; i++) {
      checkCols(ls[i].cols, in.cols, "w[" + i + "]");
      checkRows(rows, ys[i].rows, "project output " + i);
      checkCols(ys[i].cols, ls[i].rows, "project output " + i);
      ms[i] = ls[i].ternary;
      bs[i] = ls[i].bias;
      outs[i] = ys[i].buf;
      ld[i] = ys[i].cols;
    }
    if (res != null) {
      checkRows(rows, res.rows, "residual");
      checkCols(res.cols, ls[0].rows, "residual");
    }
    kernels.normQuantizeMultiply(gain == null ? null : gain.buf, eps, ms, bs, in.buf, in.cols, 1, outs, ld,
        res == null ? null : res.buf, res == null ? 0 : res.cols, qr.in, 0);
  }

  /**
   * One row of ternary projections of a normalized input is one kernel: the RMSNorm, then the
   * int8 quantization, is the GEMV's prologue ({@link CudaTernaryKernels#normQuantizeMultiply});
   * {@code normed} is left unwritten. The norm's factor may differ from {@link #rmsNorm}'s in the
   * last bit (its sum of squares runs in another order); more rows take the unfused path.
   */
  @Override
  public void normProject(Activations x, Vector gain, float eps, Activations normed, int rows, QuantizedRows q, Weights[] w,
      Activations[] y, Activations residual) {
    Act in = own(x, Act.class, "x");
    Vec g = own(gain, Vec.class, "gain");
    own(normed, Act.class, "normed");
    checkCols(in.cols, g.length, "normProject input");
    if (rows != 1 || in.cols > kernels.fusedMaxCols() || !FUSED_PROJECTIONS) {
      ComputeOps.super.normProject(x, gain, eps, normed, rows, q, w, y, residual);
      return;
    }
    fusedProject(in, g, eps, rows, q, w, y, residual);
  }

  @Override
  public void add(Activations x, Activations y, int rows) {
    Act a = own(x, Act.class, "x");
    Act b = own(y, Act.class, "y");
    checkRows(rows, Math.min(a.rows, b.rows), "add");
    checkCols(b.cols, a.cols, "add operand");
    long n = (long) rows * a.cols;
    add.launch(stream, grid1(n), block(), 0, a.buf, b.buf, n);
  }

  @Override
  public void gated(GatedActivation activation, Activations gate, Activations up, int rows) {
    Act g = own(gate, Act.class, "gate");
    Act u = own(up, Act.class, "up");
    checkRows(rows, Math.min(g.rows, u.rows), "gated");
    checkCols(u.cols, g.cols, "up");
    long n = (long) rows * g.cols;
    int act = switch (Objects.requireNonNull(activation, "activation")) {
      case SQUARED_RELU -> 0;
      case SILU -> 1;
    };
    gated.launch(stream, grid1(n), block(), 0, g.buf, u.buf, n, act);
  }

  @Override
  public void copyRows(Activations src, int srcRow, Activations dst, int dstRow, int rows) {
    Act a = own(src, Act.class, "src");
    Act b = own(dst, Act.class, "dst");
    checkCols(b.cols, a.cols, "copy destination");
    if (rows < 0 || srcRow < 0 || dstRow < 0 || srcRow + rows > a.rows || dstRow + rows > b.rows) {
      throw new ShapeException("copy of rows [" + srcRow + ", " + (srcRow + rows) + ") to [" + dstRow + ", " + (dstRow + rows)
          + ") outside " + a.rows + " and " + b.rows + " rows");
    }
    if (rows == 0) {
      return;
    }
    long n = (long) rows * a.cols;
    copy.launch(stream, grid1(n), block(), 0, a.buf.address() + 4L * srcRow * a.cols, b.buf.address() + 4L * dstRow * b.cols, n);
  }

  @Override
  public Replay record(Runnable work) {
    ensureOpen();
    Objects.requireNonNull(work, "work");
    noAllocationWhileRecording("record");
    capturing = true;
    CudaGraph g;
    try {
      g = context.capture(stream, work);
    } finally {
      capturing = false;
    }
    try {
      return new Graph(g);
    } catch (RuntimeException e) {
      g.close();
      throw e;
    }
  }

  /** Frees every handle still open and unloads the decoder kernels (the ternary kernels stay). */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (!context.isClosed()) {
        stream.synchronize();
      }
    } finally {
      for (Owned h : new ArrayList<>(handles)) {
        h.close();
      }
      if (scratch != null) {
        scratch.close();
      }
      if (attendCounters != null) {
        attendCounters.close();
      }
      module.close();
    }
  }

  @Override
  public String toString() {
    return "CudaComputeOps[" + backendName + ", " + context.device().name() + "]";
  }
}
