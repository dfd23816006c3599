package dev.aphelion.tritter.model;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.compute.ComputeOps;
import dev.aphelion.tritter.nn.DenseLayer;
import dev.aphelion.tritter.nn.EmbeddingTable;
import dev.aphelion.tritter.nn.LinearLayer;
import dev.aphelion.tritter.nn.RmsNorm;
import dev.aphelion.tritter.nn.TernaryLayer;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * A {@link DecoderModel}'s forward pass written once against {@link ComputeOps}: the weights are
 * uploaded when the model is bound to a backend, activations and the KV cache stay on the
 * backend, and a call moves only the token ids and positions in and the logits out. A one-token
 * call (the decode step) runs directly the first time for a cache, is then recorded, and later
 * ones replay it ({@link ComputeOps#record}: one CUDA graph launch on the GPU).
 *
 * <p>The host {@link KVCache} keeps the positions, claims and room checks; its keys and values
 * live in a {@link ComputeOps.KvStore} made for it on first use (freed once the cache is garbage
 * and another one needs room, or when the model closes). Calls are serialized: the ops are not
 * thread-safe.
 */
final class BackendDecoder implements AutoCloseable {

  private record Proj(ComputeOps.Weights w, boolean ternary) {}

  private record Layer(ComputeOps.Vector attnNorm, Proj q, Proj k, Proj v, Proj o, ComputeOps.Vector ffnNorm, Proj gate,
      Proj up, Proj down, ComputeOps.Vector attnSubNorm, ComputeOps.Vector ffnSubNorm) {}

  /** Buffers for calls of one row count. */
  private final class Work {
    final int rows;
    final int logitRows;
    final ComputeOps.Indices tokens;
    final ComputeOps.Indices pos;
    final ComputeOps.Indices seqs;
    final ComputeOps.Activations x;
    final ComputeOps.Activations n;
    final ComputeOps.Activations q;
    final ComputeOps.Activations k;
    final ComputeOps.Activations v;
    final ComputeOps.Activations att;
    final ComputeOps.Activations o;
    final ComputeOps.Activations g;
    final ComputeOps.Activations u;
    final ComputeOps.QuantizedRows qh;
    final ComputeOps.QuantizedRows qf;
    final ComputeOps.Activations sel;
    final ComputeOps.Activations logits;
    final List<ComputeOps.Handle> all = new ArrayList<>();

    Work(int rows, int logitRows) {
      this.rows = rows;
      this.logitRows = logitRows;
      int hs = config.hiddenSize();
      int kvs = config.kvSize();
      int ff = config.ffnSize();
      tokens = keep(ops.allocateIndices(rows));
      pos = keep(ops.allocateIndices(rows));
      seqs = keep(ops.allocateIndices(rows));
      x = keep(ops.allocate(rows, hs));
      n = keep(ops.allocate(rows, hs));
      q = keep(ops.allocate(rows, hs));
      k = keep(ops.allocate(rows, kvs));
      v = keep(ops.allocate(rows, kvs));
      att = keep(ops.allocate(rows, hs));
      o = keep(ops.allocate(rows, hs));
      g = keep(ops.allocate(rows, ff));
      u = keep(ops.allocate(rows, ff));
      qh = keep(ops.allocateQuantized(rows, hs));
      qf = keep(ops.allocateQuantized(rows, ff));
      sel = keep(ops.allocate(logitRows, hs));
      logits = keep(ops.allocate(logitRows, config.vocabSize()));
    }

    private <T extends ComputeOps.Handle> T keep(T h) {
      all.add(h);
      return h;
    }

    void close() {
      all.forEach(ComputeOps.Handle::close);
    }
  }

  /** The backend state of one host cache. */
  private static final class Session {
    final WeakReference<KVCache> cache;
    final ComputeOps.KvStore kv;
    ComputeOps.Replay step;

    Session(KVCache cache, ComputeOps.KvStore kv) {
      this.cache = new WeakReference<>(cache);
      this.kv = kv;
    }

    void close() {
      if (step != null) {
        step.close();
      }
      kv.close();
    }
  }

  private final ComputeOps ops;
  private final boolean ownsOps;
  private final DecoderConfig config;
  private final ComputeOps.Table embedding;
  private final ComputeOps.Table head;
  private final Layer[] layers;
  private final ComputeOps.Vector finalNorm;
  private final List<Session> sessions = new ArrayList<>();
  private final float eps;
  private final float scale;
  private final ComputeOps.GatedActivation activation;
  private ComputeOps.RopeTable rope;
  private Work decode;
  private Work prefill;
  private boolean closed;

  BackendDecoder(DecoderModel model, ComputeOps ops, boolean ownsOps) {
    this.ops = ops;
    this.ownsOps = ownsOps;
    this.config = model.config();
    this.eps = config.rmsNormEps();
    this.scale = (float) (1.0 / Math.sqrt(config.headDim()));
    this.activation = switch (config.activation()) {
      case SQUARED_RELU -> ComputeOps.GatedActivation.SQUARED_RELU;
      case SWIGLU -> ComputeOps.GatedActivation.SILU;
    };
    try {
      this.embedding = table(model.embedding());
      this.head = config.tiedEmbeddings() ? embedding : table(model.head());
      this.layers = new Layer[config.numLayers()];
      for (int l = 0; l < layers.length; l++) {
        DecoderModel.Block b = model.block(l);
        layers[l] = new Layer(vector(b.attnNorm()), proj(b.q()), proj(b.k()), proj(b.v()), proj(b.o()), vector(b.ffnNorm()),
            proj(b.gate()), proj(b.up()), proj(b.down()), vector(b.attnSubNorm()), vector(b.ffnSubNorm()));
      }
      this.finalNorm = vector(model.finalNorm());
    } catch (RuntimeException e) {
      if (ownsOps) {
        ops.close();
      }
      throw e;
    }
  }

  String backendName() {
    return ops.backendName();
  }

  private ComputeOps.Table table(EmbeddingTable t) {
    return t.isInt8() ? ops.uploadTable(null, t.int8Values(), t.rowScales(), t.vocab(), t.hidden())
        : ops.uploadTable(t.toFloats(), null, null, t.vocab(), t.hidden());
  }

  private ComputeOps.Vector vector(RmsNorm n) {
    return n == null ? null : ops.uploadVector(n.weight());
  }

  private Proj proj(LinearLayer layer) {
    return switch (layer) {
      case TernaryLayer t -> {
        if (t.activations() != TernaryLayer.Activations.INT8) {
          throw new ConfigException("backend '" + ops.backendName() + "' runs ternary layers with int8 activations (W1.58A8); "
              + t + " takes f32 activations");
        }
        yield new Proj(ops.uploadTernary(t.packed(), t.bias().orElse(null)), true);
      }
      case DenseLayer d -> new Proj(ops.uploadDense(d.weights(), d.outFeatures(), d.inFeatures(), d.bias().orElse(null)), false);
    };
  }

  synchronized float[] run(KVCache cache, int[] seqs, int[] tokens, int[] logitRows) {
    if (closed) {
      throw new IllegalStateException("the model's '" + ops.backendName() + "' backend state is closed");
    }
    if (cache.storage() != KVCache.Storage.FLOAT32 || cache.policy() != KVCache.EvictionPolicy.ERROR) {
      throw new ConfigException("on backend '" + ops.backendName() + "' the KV cache must be FLOAT32 with policy ERROR, got "
          + cache.storage() + " / " + cache.policy());
    }
    int rows = tokens.length;
    int[] pos = new int[rows];
    int[] added = new int[cache.sequences()];
    for (int r = 0; r < rows; r++) {
      int t = tokens[r];
      if (t < 0 || t >= config.vocabSize()) {
        throw new ShapeException("token " + t + " at row " + r + " outside the vocabulary [0, " + config.vocabSize() + ")");
      }
      pos[r] = cache.position(seqs[r]) + added[seqs[r]]++;
    }
    for (int s = 0; s < added.length; s++) {
      if (added[s] > 0) {
        cache.ensureRoom(s, added[s]);
      }
    }
    int first = logitRows[0];
    for (int i = 1; i < logitRows.length; i++) {
      if (logitRows[i] != first + i) {
        throw new IllegalArgumentException("logit rows must be consecutive");
      }
    }
    Session session = session(cache);
    int nl = logitRows.length;
    boolean step = rows == 1;
    Work w = work(rows, nl);
    ops.write(w.tokens, tokens);
    ops.write(w.pos, pos);
    ops.write(w.seqs, seqs);
    if (step && session.step != null) {
      session.step.run();
    } else if (step) {
      // The first step runs directly (an implementation may allocate scratch on first use, which
      // recording forbids); later steps replay it.
      forward(w, session.kv, 1, 0, 1);
      session.step = ops.record(() -> forward(w, session.kv, 1, 0, 1));
    } else {
      forward(w, session.kv, rows, first, nl);
    }
    float[] logits = new float[nl * config.vocabSize()];
    ops.read(w.logits, logits, nl);
    for (int s = 0; s < added.length; s++) {
      if (added[s] > 0) {
        cache.advance(s, added[s]);
      }
    }
    return logits;
  }

  private Work work(int rows, int logitRows) {
    if (rows == 1) {
      if (decode == null) {
        decode = new Work(1, 1);
      }
      return decode;
    }
    if (prefill == null || prefill.rows != rows || prefill.logitRows != logitRows) {
      if (prefill != null) {
        prefill.close();
      }
      prefill = null;
      prefill = new Work(rows, logitRows);
    }
    return prefill;
  }

  private Session session(KVCache cache) {
    for (Iterator<Session> it = sessions.iterator(); it.hasNext(); ) {
      Session s = it.next();
      KVCache c = s.cache.get();
      if (c == cache) {
        return s;
      }
      if (c == null) {
        s.close();
        it.remove();
      }
    }
    if (rope == null || rope.positions() < cache.capacity()) {
      if (rope != null) {
        rope.close();
        // Recorded steps hold the old table.
        sessions.forEach(s -> {
          if (s.step != null) {
            s.step.close();
            s.step = null;
          }
        });
      }
      rope = null;
      rope = ops.uploadRope(config.headDim(), config.ropeTheta(), Math.max(cache.capacity(), 4096));
    }
    Session s = new Session(cache, ops.allocateKv(config.numLayers(), cache.sequences(), config.numKvHeads(), config.headDim(),
        cache.capacity()));
    sessions.add(s);
    return s;
  }

  /** The block loop of DecoderModel.runClaimed, on the backend. */
  private void forward(Work w, ComputeOps.KvStore kv, int rows, int firstLogitRow, int logitRows) {
    int nh = config.numHeads();
    int nkv = config.numKvHeads();
    ops.embed(embedding, w.tokens, rows, w.x);
    for (int l = 0; l < layers.length; l++) {
      Layer b = layers[l];
      project3(w.x, b.attnNorm, w.n, w.qh, rows, b.q, w.q, b.k, w.k, b.v, w.v);
      ops.ropeAttend(kv, l, rope, w.q, w.k, w.v, rows, nh, w.seqs, w.pos, scale, w.att);
      projectAdd(w.att, b.attnSubNorm, w.qh, rows, b.o, w.o, w.x);
      project3(w.x, b.ffnNorm, w.n, w.qh, rows, b.gate, w.g, b.up, w.u, null, null);
      ops.gated(activation, w.g, w.u, rows);
      projectAdd(w.g, b.ffnSubNorm, w.qf, rows, b.down, w.o, w.x);
    }
    ops.copyRows(w.x, firstLogitRow, w.sel, 0, logitRows);
    ops.rmsNorm(w.sel, finalNorm, eps, logitRows, w.sel);
    ops.logits(head, w.sel, logitRows, w.logits);
  }

  /**
   * Up to three projections of {@code x} RMS-normalized by {@code norm} into {@code in}, quantizing
   * it once for the ternary ones (one call, which a backend may fuse with the norm, when all are).
   */
  private void project3(ComputeOps.Activations x, ComputeOps.Vector norm, ComputeOps.Activations in, ComputeOps.QuantizedRows q,
      int rows, Proj p1, ComputeOps.Activations y1, Proj p2, ComputeOps.Activations y2, Proj p3, ComputeOps.Activations y3) {
    boolean all = p1.ternary && (p2 == null || p2.ternary) && (p3 == null || p3.ternary);
    if (all) {
      int n = p3 != null ? 3 : p2 != null ? 2 : 1;
      ComputeOps.Weights[] ws = {p1.w, p2 == null ? null : p2.w, p3 == null ? null : p3.w};
      ComputeOps.Activations[] ys = {y1, y2, y3};
      ops.normProject(x, norm, eps, in, rows, q, java.util.Arrays.copyOf(ws, n), java.util.Arrays.copyOf(ys, n), null);
      return;
    }
    ops.rmsNorm(x, norm, eps, rows, in);
    if (p1.ternary || (p2 != null && p2.ternary) || (p3 != null && p3.ternary)) {
      ops.quantize(in, rows, q);
    }
    project(in, q, rows, p1, y1);
    if (p2 != null) {
      project(in, q, rows, p2, y2);
    }
    if (p3 != null) {
      project(in, q, rows, p3, y3);
    }
  }

  /** {@code residual += p · norm(in)}, through y; {@code in} is normalized in place when {@code norm} is set. */
  private void projectAdd(ComputeOps.Activations in, ComputeOps.Vector norm, ComputeOps.QuantizedRows q, int rows, Proj p,
      ComputeOps.Activations y, ComputeOps.Activations residual) {
    ComputeOps.Weights[] ws = {p.w};
    ComputeOps.Activations[] ys = {y};
    if (p.ternary && norm != null) {
      ops.normProject(in, norm, eps, in, rows, q, ws, ys, residual);
    } else if (p.ternary) {
      ops.project(in, rows, q, ws, ys, residual);
    } else {
      if (norm != null) {
        ops.rmsNorm(in, norm, eps, rows, in);
      }
      project(in, q, rows, p, y);
      ops.add(residual, y, rows);
    }
  }

  private void project(ComputeOps.Activations in, ComputeOps.QuantizedRows q, int rows, Proj p, ComputeOps.Activations y) {
    if (p.ternary) {
      ops.matmul(p.w, q, rows, y);
    } else {
      ops.matmul(p.w, in, rows, y);
    }
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (ownsOps) {
      ops.close();
    }
  }
}
