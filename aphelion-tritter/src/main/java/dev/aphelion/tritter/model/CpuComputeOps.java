package dev.aphelion.tritter.model;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.compute.ComputeOps;
import dev.aphelion.tritter.nn.DenseLayer;
import dev.aphelion.tritter.nn.EmbeddingTable;
import dev.aphelion.tritter.nn.FloatKernels;
import dev.aphelion.tritter.nn.RmsNorm;
import dev.aphelion.tritter.nn.RotaryEmbedding;
import dev.aphelion.tritter.quant.Int8Activations;
import dev.aphelion.tritter.ternary.PackedTernary;
import dev.aphelion.tritter.ternary.TernaryMatmul;
import java.util.Arrays;
import java.util.Objects;

/**
 * {@link ComputeOps} on the CPU engine: heap arrays, and the kernels {@link DecoderModel} runs on
 * the CPU ({@link TernaryMatmul}, {@link DenseLayer}, {@link RmsNorm}, {@link RotaryEmbedding},
 * {@link EmbeddingTable}, the attention of {@link KVCache}) in the same order, so a decoder run
 * through these operations gives the CPU model's results bit for bit. Operations run at once;
 * {@link #record} keeps the work and replays it by running it again.
 */
public final class CpuComputeOps implements ComputeOps {

  private final String backendName;
  private final FloatKernels kernels = FloatKernels.get();
  private final TernaryMatmul matmul = TernaryMatmul.get();
  private volatile boolean closed;

  /**
   * Creates the operations.
   *
   * @param backendName the name of the backend that hands them out
   */
  public CpuComputeOps(String backendName) {
    this.backendName = Objects.requireNonNull(backendName, "backendName");
  }

  private abstract class Owned implements Handle {
    private boolean freed;

    final void check() {
      if (freed || closed) {
        throw new IllegalStateException(getClass().getSimpleName() + " handle is closed");
      }
    }

    final CpuComputeOps owner() {
      return CpuComputeOps.this;
    }

    @Override
    public void close() {
      freed = true;
    }
  }

  private final class Act extends Owned implements Activations {
    final int rows;
    final int cols;
    final float[] data;

    Act(int rows, int cols) {
      this.rows = rows;
      this.cols = cols;
      this.data = new float[Math.multiplyExact(rows, cols)];
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
    final int[] data;

    Idx(int n) {
      data = new int[n];
    }

    @Override
    public int length() {
      return data.length;
    }
  }

  private final class Quant extends Owned implements QuantizedRows {
    final int rows;
    final int cols;
    Int8Activations value;
    int valueRows;

    Quant(int rows, int cols) {
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
    final PackedTernary ternary;
    final float[] bias;
    final DenseLayer dense;

    Lin(PackedTernary ternary, float[] bias, DenseLayer dense) {
      this.ternary = ternary;
      this.bias = bias;
      this.dense = dense;
    }

    @Override
    public int rows() {
      return ternary != null ? ternary.rows() : dense.outFeatures();
    }

    @Override
    public int cols() {
      return ternary != null ? ternary.cols() : dense.inFeatures();
    }
  }

  private final class Vec extends Owned implements Vector {
    final float[] data;
    RmsNorm norm;

    Vec(float[] data) {
      this.data = data.clone();
    }

    @Override
    public int length() {
      return data.length;
    }

    RmsNorm norm(float eps) {
      // Same class and kernels as the CPU model's norms; one eps per gain in a decoder.
      if (norm == null || normEps != eps) {
        norm = new RmsNorm(data, eps);
        normEps = eps;
      }
      return norm;
    }

    private float normEps = Float.NaN;
  }

  private final class Tab extends Owned implements Table {
    final EmbeddingTable table;

    Tab(EmbeddingTable table) {
      this.table = table;
    }

    @Override
    public int vocab() {
      return table.vocab();
    }

    @Override
    public int dim() {
      return table.hidden();
    }
  }

  private final class Rope extends Owned implements RopeTable {
    final RotaryEmbedding rope;
    final int positions;

    Rope(int headDim, double theta, int positions) {
      this.rope = new RotaryEmbedding(headDim, theta, positions);
      this.positions = positions;
    }

    @Override
    public int positions() {
      return positions;
    }

    @Override
    public int headDim() {
      return rope.headDim();
    }
  }

  private final class Kv extends Owned implements KvStore {
    final int layers;
    final int sequences;
    final int kvHeads;
    final int headDim;
    final int capacity;
    final float[][] keys;
    final float[][] values;

    Kv(int layers, int sequences, int kvHeads, int headDim, int capacity) {
      this.layers = layers;
      this.sequences = sequences;
      this.kvHeads = kvHeads;
      this.headDim = headDim;
      this.capacity = capacity;
      int per = Math.multiplyExact(Math.multiplyExact(Math.multiplyExact(sequences, kvHeads), capacity), headDim);
      keys = new float[layers][per];
      values = new float[layers][per];
    }

    int base(int seq, int kvHead) {
      return (seq * kvHeads + kvHead) * capacity * headDim;
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

  private final class Recorded extends Owned implements Replay {
    final Runnable work;

    Recorded(Runnable work) {
      this.work = work;
    }

    @Override
    public void run() {
      check();
      work.run();
    }
  }

  private <T extends Owned> T own(Object handle, Class<T> type, String what) {
    Objects.requireNonNull(handle, what);
    if (closed) {
      throw new IllegalStateException("the " + backendName + " compute operations are closed");
    }
    if (!type.isInstance(handle) || type.cast(handle).owner() != this) {
      throw new IllegalArgumentException(what + " is not a handle of these " + backendName + " operations: " + handle);
    }
    T t = type.cast(handle);
    t.check();
    return t;
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

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("the " + backendName + " compute operations are closed");
    }
  }

  @Override
  public String backendName() {
    return backendName;
  }

  @Override
  public Activations allocate(int rows, int cols) {
    ensureOpen();
    if (rows < 1 || cols < 1) {
      throw new ShapeException("activations need at least one row and column, got " + rows + "x" + cols);
    }
    return new Act(rows, cols);
  }

  @Override
  public Indices allocateIndices(int length) {
    ensureOpen();
    if (length < 1) {
      throw new ShapeException("indices need a length of at least 1, got " + length);
    }
    return new Idx(length);
  }

  @Override
  public QuantizedRows allocateQuantized(int rows, int cols) {
    ensureOpen();
    if (rows < 1 || cols < 1) {
      throw new ShapeException("quantized rows need at least one row and column, got " + rows + "x" + cols);
    }
    return new Quant(rows, cols);
  }

  @Override
  public KvStore allocateKv(int layers, int sequences, int kvHeads, int headDim, int capacity) {
    ensureOpen();
    if (layers < 1 || sequences < 1 || kvHeads < 1 || headDim < 1 || capacity < 1) {
      throw new ShapeException("KV store dimensions must be positive: layers " + layers + ", sequences " + sequences
          + ", kvHeads " + kvHeads + ", headDim " + headDim + ", capacity " + capacity);
    }
    return new Kv(layers, sequences, kvHeads, headDim, capacity);
  }

  @Override
  public void write(Activations dst, float[] src, int rows) {
    Act a = own(dst, Act.class, "dst");
    checkRows(rows, a.rows, "write");
    if (src.length < rows * a.cols) {
      throw new ShapeException("write of " + rows + " rows needs " + rows * a.cols + " floats, got " + src.length);
    }
    System.arraycopy(src, 0, a.data, 0, rows * a.cols);
  }

  @Override
  public void write(Indices dst, int[] src) {
    Idx a = own(dst, Idx.class, "dst");
    if (src.length > a.data.length) {
      throw new ShapeException(src.length + " indices do not fit in " + a.data.length);
    }
    System.arraycopy(src, 0, a.data, 0, src.length);
  }

  @Override
  public void read(Activations src, float[] dst, int rows) {
    Act a = own(src, Act.class, "src");
    checkRows(rows, a.rows, "read");
    if (dst.length < rows * a.cols) {
      throw new ShapeException("read of " + rows + " rows needs " + rows * a.cols + " floats, got " + dst.length);
    }
    System.arraycopy(a.data, 0, dst, 0, rows * a.cols);
  }

  @Override
  public Weights uploadTernary(PackedTernary weights, float[] bias) {
    ensureOpen();
    Objects.requireNonNull(weights, "weights");
    if (bias != null && bias.length != weights.rows()) {
      throw new ShapeException("bias of " + bias.length + " for " + weights.rows() + " rows");
    }
    return new Lin(weights, bias == null ? null : bias.clone(), null);
  }

  @Override
  public Weights uploadDense(float[] weights, int rows, int cols, float[] bias) {
    ensureOpen();
    return new Lin(null, null, DenseLayer.of(weights, rows, cols, bias));
  }

  @Override
  public Vector uploadVector(float[] values) {
    ensureOpen();
    return new Vec(Objects.requireNonNull(values, "values"));
  }

  @Override
  public Table uploadTable(float[] f32, byte[] int8, float[] rowScales, int vocab, int dim) {
    ensureOpen();
    if ((f32 == null) == (int8 == null)) {
      throw new IllegalArgumentException("give either f32 or int8 values");
    }
    return new Tab(int8 != null ? EmbeddingTable.ofInt8(int8, Objects.requireNonNull(rowScales, "rowScales"), vocab, dim)
        : EmbeddingTable.of(f32, vocab, dim, false));
  }

  @Override
  public RopeTable uploadRope(int headDim, double theta, int positions) {
    ensureOpen();
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
    checkRows(rows, Math.min(ix.data.length, o.rows), "embed");
    checkCols(o.cols, t.dim(), "embed output");
    for (int r = 0; r < rows; r++) {
      t.table.lookup(ix.data[r], o.data, r * o.cols);
    }
  }

  @Override
  public void logits(Table table, Activations x, int rows, Activations out) {
    Tab t = own(table, Tab.class, "table");
    Act in = own(x, Act.class, "x");
    Act o = own(out, Act.class, "out");
    checkRows(rows, Math.min(in.rows, o.rows), "logits");
    checkCols(in.cols, t.dim(), "logits input");
    checkCols(o.cols, t.vocab(), "logits output");
    t.table.logits(in.data, o.data, rows);
  }

  @Override
  public void rmsNorm(Activations x, Vector gain, float eps, int rows, Activations y) {
    Act in = own(x, Act.class, "x");
    Vec g = own(gain, Vec.class, "gain");
    Act out = own(y, Act.class, "y");
    checkRows(rows, Math.min(in.rows, out.rows), "rmsNorm");
    checkCols(in.cols, g.data.length, "rmsNorm input");
    checkCols(out.cols, g.data.length, "rmsNorm output");
    g.norm(eps).apply(in.data, out.data, rows);
  }

  @Override
  public void quantize(Activations x, int rows, QuantizedRows out) {
    Act in = own(x, Act.class, "x");
    Quant q = own(out, Quant.class, "out");
    checkRows(rows, Math.min(in.rows, q.rows), "quantize");
    checkCols(in.cols, q.cols, "quantize input");
    float[] xs = in.data.length == rows * in.cols ? in.data : Arrays.copyOf(in.data, rows * in.cols);
    q.value = Int8Activations.quantize(matmul.vectorization(), xs, rows, in.cols);
    q.valueRows = rows;
  }

  /** Quantizes once and runs all the matrices as one pool job (the default's results, bit for bit). */
  @Override
  public void project(Activations x, int rows, QuantizedRows q, Weights[] w, Activations[] y, Activations residual) {
    if (w.length < 2 || w.length > 3 || y.length != w.length || residual != null) {
      ComputeOps.super.project(x, rows, q, w, y, residual);
      return;
    }
    PackedTernary[] ws = new PackedTernary[w.length];
    float[][] bs = new float[w.length][];
    Act[] outs = new Act[w.length];
    for (int i = 0; i < w.length; i++) {
      Lin l = own(w[i], Lin.class, "w[" + i + "]");
      Act out = own(y[i], Act.class, "y[" + i + "]");
      if (l.ternary == null) {
        throw new IllegalArgumentException("int8 rows need ternary weights; " + w[i] + " is dense");
      }
      checkRows(rows, out.rows, "matmul");
      checkCols(out.cols, l.rows(), "matmul output");
      ws[i] = l.ternary;
      bs[i] = l.bias;
      outs[i] = out;
    }
    quantize(x, rows, q);
    Quant qr = own(q, Quant.class, "q");
    float[][] ys = new float[w.length][];
    for (int i = 0; i < w.length; i++) {
      checkCols(qr.cols, ws[i].cols(), "int8 rows");
      ys[i] = outs[i].data.length == rows * outs[i].cols ? outs[i].data : new float[rows * outs[i].cols];
    }
    matmul.gemmInt8(ws, qr.value, ys, bs);
    for (int i = 0; i < w.length; i++) {
      if (ys[i] != outs[i].data) {
        System.arraycopy(ys[i], 0, outs[i].data, 0, rows * outs[i].cols);
      }
    }
  }

  @Override
  public void matmul(Weights w, QuantizedRows x, int rows, Activations y) {
    Lin l = own(w, Lin.class, "w");
    Quant q = own(x, Quant.class, "x");
    Act out = own(y, Act.class, "y");
    if (l.ternary == null) {
      throw new IllegalArgumentException("int8 rows need ternary weights; " + w + " is dense");
    }
    if (q.value == null || q.valueRows != rows) {
      throw new IllegalStateException("the quantized rows hold " + q.valueRows + " rows, not " + rows + "; quantize first");
    }
    checkCols(q.cols, l.cols(), "int8 rows");
    checkRows(rows, out.rows, "matmul");
    checkCols(out.cols, l.rows(), "matmul output");
    float[] ys = out.data.length == rows * out.cols ? out.data : new float[rows * out.cols];
    matmul.gemmInt8(l.ternary, q.value, ys, l.bias);
    if (ys != out.data) {
      System.arraycopy(ys, 0, out.data, 0, rows * out.cols);
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
    checkCols(in.cols, l.cols(), "matmul input");
    checkCols(out.cols, l.rows(), "matmul output");
    l.dense.forward(in.data, out.data, rows);
  }

  @Override
  public void rope(Activations x, int rows, int heads, RopeTable table, Indices positions) {
    Act a = own(x, Act.class, "x");
    Rope r = own(table, Rope.class, "table");
    Idx p = own(positions, Idx.class, "positions");
    checkRows(rows, Math.min(a.rows, p.data.length), "rope");
    checkCols(a.cols, heads * r.headDim(), "rope input");
    for (int i = 0; i < rows; i++) {
      int pos = p.data[i];
      if (pos < 0 || pos >= r.positions) {
        throw new ShapeException("position " + pos + " outside the rope table [0, " + r.positions + ")");
      }
      r.rope.apply(a.data, i * a.cols, heads, pos);
    }
  }

  @Override
  public void attend(KvStore kv, int layer, Activations q, Activations k, Activations v, int rows, int heads, Indices seqs,
      Indices positions, float scale, Activations out) {
    Kv c = own(kv, Kv.class, "kv");
    Act qa = own(q, Act.class, "q");
    Act ka = own(k, Act.class, "k");
    Act va = own(v, Act.class, "v");
    Act oa = own(out, Act.class, "out");
    Idx s = own(seqs, Idx.class, "seqs");
    Idx p = own(positions, Idx.class, "positions");
    Objects.checkIndex(layer, c.layers);
    int hd = c.headDim;
    int kvs = c.kvHeads * hd;
    if (heads % c.kvHeads != 0) {
      throw new ShapeException(heads + " query heads are not a multiple of " + c.kvHeads + " KV heads");
    }
    checkRows(rows, Math.min(Math.min(qa.rows, ka.rows), Math.min(Math.min(va.rows, oa.rows), Math.min(s.data.length, p.data.length))), "attend");
    checkCols(qa.cols, heads * hd, "query");
    checkCols(oa.cols, heads * hd, "attention output");
    checkCols(ka.cols, kvs, "keys");
    checkCols(va.cols, kvs, "values");
    int group = heads / c.kvHeads;
    for (int r = 0; r < rows; r++) {
      int seq = s.data[r];
      int pos = p.data[r];
      Objects.checkIndex(seq, c.sequences);
      if (pos < 0 || pos >= c.capacity) {
        throw new ShapeException("position " + pos + " outside the KV store's capacity " + c.capacity);
      }
      for (int h = 0; h < c.kvHeads; h++) {
        int dst = c.base(seq, h) + pos * hd;
        System.arraycopy(ka.data, r * kvs + h * hd, c.keys[layer], dst, hd);
        System.arraycopy(va.data, r * kvs + h * hd, c.values[layer], dst, hd);
      }
    }
    for (int r = 0; r < rows; r++) {
      final int row = r;
      int seq = s.data[r];
      int pos = p.data[r];
      AttentionHeads.run(heads, c.capacity, pos + 1, (h, scores) ->
          attendHead(c, layer, seq, pos, h / group, qa.data, row * qa.cols + h * hd, scale, oa.data, row * oa.cols + h * hd, scores));
    }
  }

  /** KVCache.attend's f32 arithmetic, in its order. */
  private void attendHead(Kv c, int layer, int seq, int position, int kvHead, float[] q, int qOff, float scale, float[] out,
      int outOff, float[] scores) {
    int hd = c.headDim;
    int n = position + 1;
    int base = c.base(seq, kvHead);
    float[] keys = c.keys[layer];
    float[] values = c.values[layer];
    float max = Float.NEGATIVE_INFINITY;
    for (int t = 0; t < n; t++) {
      float s = kernels.dot(q, qOff, keys, base + t * hd, hd);
      s *= scale;
      scores[t] = s;
      max = Math.max(max, s);
    }
    float sum = 0f;
    for (int t = 0; t < n; t++) {
      float e = (float) Math.exp(scores[t] - max);
      scores[t] = e;
      sum += e;
    }
    Arrays.fill(out, outOff, outOff + hd, 0f);
    float inv = 1f / sum;
    for (int t = 0; t < n; t++) {
      kernels.axpy(scores[t] * inv, values, base + t * hd, out, outOff, hd);
    }
  }

  @Override
  public void add(Activations x, Activations y, int rows) {
    Act a = own(x, Act.class, "x");
    Act b = own(y, Act.class, "y");
    checkRows(rows, Math.min(a.rows, b.rows), "add");
    checkCols(b.cols, a.cols, "add operand");
    int n = rows * a.cols;
    for (int i = 0; i < n; i++) {
      a.data[i] += b.data[i];
    }
  }

  @Override
  public void gated(GatedActivation activation, Activations gate, Activations up, int rows) {
    Act g = own(gate, Act.class, "gate");
    Act u = own(up, Act.class, "up");
    checkRows(rows, Math.min(g.rows, u.rows), "gated");
    checkCols(u.cols, g.cols, "up");
    FfnActivation act = switch (Objects.requireNonNull(activation, "activation")) {
      case SQUARED_RELU -> FfnActivation.SQUARED_RELU;
      case SILU -> FfnActivation.SWIGLU;
    };
    act.applyGated(g.data, u.data, rows * g.cols);
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
    System.arraycopy(a.data, srcRow * a.cols, b.data, dstRow * b.cols, rows * a.cols);
  }

  @Override
  public Replay record(Runnable work) {
    ensureOpen();
    return new Recorded(Objects.requireNonNull(work, "work"));
  }

  @Override
  public void close() {
    closed = true;
  }

  @Override
  public String toString() {
    return "CpuComputeOps[" + backendName + "]";
  }
}
