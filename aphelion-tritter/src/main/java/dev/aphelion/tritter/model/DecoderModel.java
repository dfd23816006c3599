package dev.aphelion.tritter.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aphelion.core.backend.Backend;
import dev.aphelion.core.error.BackendException;
import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.compute.ComputeOps;
import dev.aphelion.tritter.io.SafeTensorsFile;
import dev.aphelion.tritter.io.SafeTensorsWriter;
import dev.aphelion.tritter.io.TernaryTensors;
import dev.aphelion.tritter.io.WeightSource;
import dev.aphelion.tritter.nn.DenseLayer;
import dev.aphelion.tritter.nn.EmbeddingTable;
import dev.aphelion.tritter.nn.LinearLayer;
import dev.aphelion.tritter.nn.RmsNorm;
import dev.aphelion.tritter.nn.RotaryEmbedding;
import dev.aphelion.tritter.nn.TernaryLayer;
import dev.aphelion.tritter.ternary.PackedTernary;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * A decoder-only transformer in the BitNet b1.58 style, runnable on the CPU with a {@link KVCache}.
 *
 * <p>Each of the {@code numLayers} blocks is {@code x += O(attn(RoPE(Q(n)), RoPE(K(n)), V(n)))}
 * with {@code n = RMSNorm(x)}, then {@code x += Down(act(Gate(m)) ⊙ Up(m))} with {@code m =
 * RMSNorm(x)}; a final RMSNorm and the output head produce the logits. Attention is causal and
 * grouped-query ({@code numHeads / numKvHeads} query heads share one KV head). The seven projections
 * of a block are {@link LinearLayer}s: {@link TernaryLayer} with int8 activations under {@link
 * Precision#TERNARY}, {@link DenseLayer} under {@link Precision#DENSE_F32}; everything else is the
 * same code.
 *
 * <p>The model runs on the CPU as built; {@link #on(Backend)} gives the same model on another
 * backend (the GPU), whose weights, activations and KV cache live there, with the same methods:
 * a program switches backends by the backend it passes, nothing else. Close a model bound to a
 * backend to free its memory there ({@link #close()} does nothing for the CPU model).
 *
 * <p>The model is immutable and thread-safe; all per-sequence state lives in the {@link KVCache}
 * passed to each call. Calls on different sequences of one cache may run concurrently; a call on a
 * sequence that another thread is stepping throws {@link java.util.ConcurrentModificationException}
 * (checked, not silently interleaved).
 */
public final class DecoderModel implements AutoCloseable {

  /** Metadata key holding the configuration as JSON in saved checkpoints. */
  public static final String CONFIG_METADATA_KEY = "aphelion.decoder_config";
  /** Metadata key holding the {@link Precision} in saved checkpoints. */
  public static final String PRECISION_METADATA_KEY = "aphelion.precision";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final DecoderConfig config;
  private final Precision precision;
  private final EmbeddingTable embedding;
  private final EmbeddingTable head;
  private final Block[] blocks;
  private final RmsNorm finalNorm;
  private final RotaryEmbedding rope;
  /** Where the forward pass runs when not on the CPU; {@code null} for the CPU model. */
  private final BackendDecoder backend;

  /**
   * The layers of one transformer block. {@code attnSubNorm} (before {@code o}) and {@code
   * ffnSubNorm} (before {@code down}) are BitNet b1.58's extra norms, {@code null} in LLaMA-style
   * blocks.
   */
  record Block(RmsNorm attnNorm, LinearLayer q, LinearLayer k, LinearLayer v, LinearLayer o,
      RmsNorm ffnNorm, LinearLayer gate, LinearLayer up, LinearLayer down, RmsNorm attnSubNorm, RmsNorm ffnSubNorm) {

    long memoryBytes() {
      return q.memoryBytes() + k.memoryBytes() + v.memoryBytes() + o.memoryBytes() + gate.memoryBytes()
          + up.memoryBytes() + down.memoryBytes() + 2L * attnNorm.size() * Float.BYTES
          + (attnSubNorm == null ? 0 : (long) attnSubNorm.size() * Float.BYTES)
          + (ffnSubNorm == null ? 0 : (long) ffnSubNorm.size() * Float.BYTES);
    }
  }

  private DecoderModel(DecoderConfig config, Precision precision, EmbeddingTable embedding, EmbeddingTable head,
      Block[] blocks, RmsNorm finalNorm) {
    this.config = config;
    this.precision = precision;
    this.embedding = embedding;
    this.head = head;
    this.blocks = blocks;
    this.finalNorm = finalNorm;
    this.rope = new RotaryEmbedding(config.headDim(), config.ropeTheta(), 4096);
    this.backend = null;
  }

  private DecoderModel(DecoderModel cpu, BackendDecoder backend) {
    this.config = cpu.config;
    this.precision = cpu.precision;
    this.embedding = cpu.embedding;
    this.head = cpu.head;
    this.blocks = cpu.blocks;
    this.finalNorm = cpu.finalNorm;
    this.rope = cpu.rope;
    this.backend = backend;
  }

  /**
   * This model on a backend: the weights are uploaded once, and every call ({@link #forward},
   * {@link #step}, {@link #generate}, {@link Generation}) runs there with the backend's KV cache
   * (the {@link KVCache} passed in keeps positions; it must be {@code FLOAT32} with policy {@code
   * ERROR}). On the CPU backend (a backend whose {@link ComputeOps} are {@link CpuComputeOps})
   * this is the CPU model itself. Close the result to free the backend memory; the backend must
   * stay open while it is used.
   *
   * @param backend the backend, for example from {@code BackendRegistry.load().openDefault()}
   * @return the model on that backend
   * @throws BackendException if the backend has no {@link ComputeOps}
   * @throws ConfigException if a layer cannot run there (ternary layers with f32 activations)
   */
  public DecoderModel on(Backend backend) {
    java.util.Objects.requireNonNull(backend, "backend");
    ComputeOps ops = backend.operations(ComputeOps.class).orElseThrow(() -> new BackendException(
        "backend '" + backend.name() + "' has no " + ComputeOps.class.getSimpleName() + " to run a DecoderModel on"));
    if (ops instanceof CpuComputeOps) {
      ops.close();
      return base();
    }
    return new DecoderModel(base(), new BackendDecoder(base(), ops, true));
  }

  /**
   * This model run through the given operations (whose owner keeps them; the result does not close
   * them). {@code on(new CpuComputeOps("cpu"))} runs the generic backend path on the CPU, which
   * tests compare with the CPU model bit for bit.
   *
   * @param ops the operations
   * @return the model on them
   */
  public DecoderModel on(ComputeOps ops) {
    return new DecoderModel(base(), new BackendDecoder(base(), java.util.Objects.requireNonNull(ops, "ops"), false));
  }

  private DecoderModel base() {
    return backend == null ? this : new DecoderModel(this, null);
  }

  /**
   * The backend the forward pass runs on: {@code "cpu"} for the CPU model, else the name of the
   * backend given to {@link #on}.
   *
   * @return the name
   */
  public String backendName() {
    return backend == null ? "cpu" : backend.backendName();
  }

  /** Frees what the model holds on its backend (nothing for the CPU model); idempotent. */
  @Override
  public void close() {
    if (backend != null) {
      backend.close();
    }
  }

  /**
   * Builds a model from named tensors (Hugging Face LLaMA names, see docs/formats.md). Float
   * projection weights are quantized once here under {@link Precision#TERNARY}; packed ones are
   * dequantized under {@link Precision#DENSE_F32}. The embedding (and untied head) is stored as
   * int8 with per-row scales under {@link Precision#TERNARY}, as f32 otherwise. BitNet b1.58's
   * sub-norms ({@code self_attn.attn_sub_norm}, {@code mlp.ffn_sub_norm}) are used when the source
   * has them.
   *
   * @param config the shape
   * @param precision the weight format
   * @param source the tensors
   * @return the model
   * @throws ShapeException if a tensor has the wrong shape
   * @throws SerializationException if a tensor is missing
   */
  public static DecoderModel fromWeights(DecoderConfig config, Precision precision, WeightSource source) {
    return fromWeights(config, precision, source, precision == Precision.TERNARY);
  }

  /**
   * As {@link #fromWeights(DecoderConfig, Precision, WeightSource)}, choosing how the embedding
   * and head are stored.
   *
   * @param config the shape
   * @param precision the weight format of the projections
   * @param source the tensors
   * @param int8Embeddings {@code true} for int8 embedding/head rows with one scale each (a quarter
   *     of the memory), {@code false} for f32
   * @return the model
   * @throws ShapeException if a tensor has the wrong shape
   * @throws SerializationException if a tensor is missing
   */
  public static DecoderModel fromWeights(DecoderConfig config, Precision precision, WeightSource source, boolean int8Embeddings) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(precision, "precision");
    Objects.requireNonNull(source, "source");
    int hs = config.hiddenSize();
    int kv = config.kvSize();
    int ff = config.ffnSize();
    boolean int8Tables = int8Embeddings;
    EmbeddingTable emb = EmbeddingTable.of(
        source.floats("model.embed_tokens.weight", config.vocabSize(), hs), config.vocabSize(), hs, int8Tables);
    EmbeddingTable head = config.tiedEmbeddings() ? emb : EmbeddingTable.of(
        source.floats("lm_head.weight", config.vocabSize(), hs), config.vocabSize(), hs, int8Tables);
    Block[] blocks = new Block[config.numLayers()];
    for (int l = 0; l < blocks.length; l++) {
      String p = "model.layers." + l + ".";
      blocks[l] = new Block(
          new RmsNorm(source.floats(p + "input_layernorm.weight", hs), config.rmsNormEps()),
          linear(source, precision, p + "self_attn.q_proj", hs, hs),
          linear(source, precision, p + "self_attn.k_proj", kv, hs),
          linear(source, precision, p + "self_attn.v_proj", kv, hs),
          linear(source, precision, p + "self_attn.o_proj", hs, hs),
          new RmsNorm(source.floats(p + "post_attention_layernorm.weight", hs), config.rmsNormEps()),
          linear(source, precision, p + "mlp.gate_proj", ff, hs),
          linear(source, precision, p + "mlp.up_proj", ff, hs),
          linear(source, precision, p + "mlp.down_proj", hs, ff),
          optionalNorm(source, p + "self_attn.attn_sub_norm.weight", hs, config.rmsNormEps()),
          optionalNorm(source, p + "mlp.ffn_sub_norm.weight", ff, config.rmsNormEps()));
    }
    RmsNorm norm = new RmsNorm(source.floats("model.norm.weight", hs), config.rmsNormEps());
    return new DecoderModel(config, precision, emb, head, blocks, norm);
  }

  private static RmsNorm optionalNorm(WeightSource src, String name, int size, float eps) {
    return src.contains(name) ? new RmsNorm(src.floats(name, size), eps) : null;
  }

  private static LinearLayer linear(WeightSource src, Precision precision, String prefix, int out, int in) {
    float[] bias = src.contains(prefix + ".bias") ? src.floats(prefix + ".bias", out) : null;
    Optional<PackedTernary> packed = src.packed(prefix, out, in);
    if (precision == Precision.TERNARY) {
      if (packed.isPresent()) {
        return TernaryLayer.of(packed.get(), bias, TernaryLayer.Activations.INT8);
      }
      return TernaryLayer.quantize(src.floats(prefix + ".weight", out, in), out, in, bias, TernaryLayer.Activations.INT8);
    }
    float[] w = packed.isPresent() ? TernaryLayer.dequantize(packed.get()) : src.floats(prefix + ".weight", out, in);
    return DenseLayer.of(w, out, in, bias);
  }

  /**
   * A model with seeded random weights: projections {@code N(0, 1/in)}, embedding and head {@code
   * N(0, 1/hidden)}, norm gains around 1. The same seed gives the same underlying f32 weights under
   * every precision, so a ternary model and its dense twin differ only by quantization.
   *
   * @param config the shape
   * @param precision the weight format
   * @param seed the seed
   * @return the model
   */
  public static DecoderModel random(DecoderConfig config, Precision precision, long seed) {
    return fromWeights(config, precision, randomWeights(seed));
  }

  /**
   * A source of seeded random weights (see {@link #random}); each tensor's values depend only on
   * the seed and the tensor's name.
   *
   * @param seed the seed
   * @return the source
   */
  public static WeightSource randomWeights(long seed) {
    return new WeightSource() {
      @Override
      public float[] floats(String name, long... shape) {
        long n = 1;
        for (long d : shape) {
          n *= d;
        }
        SplittableRandom rnd = new SplittableRandom(seed ^ (name.hashCode() * 0x9E3779B97F4A7C15L));
        float[] w = new float[Math.toIntExact(n)];
        if (name.endsWith("norm.weight")) {
          for (int i = 0; i < w.length; i++) {
            w[i] = (float) (1.0 + 0.1 * rnd.nextGaussian());
          }
          return w;
        }
        double std = 1.0 / Math.sqrt(shape[shape.length - 1]);
        for (int i = 0; i < w.length; i++) {
          w[i] = (float) (rnd.nextGaussian() * std);
        }
        return w;
      }

      @Override
      public boolean contains(String name) {
        return !name.endsWith(".bias") && !name.endsWith("_sub_norm.weight");
      }
    };
  }

  /**
   * Loads a checkpoint written by {@link #save} (or any safetensors file with LLaMA names plus the
   * {@value #CONFIG_METADATA_KEY} metadata entry).
   *
   * @param path the file
   * @param precision the weight format to run in
   * @return the model
   * @throws SerializationException if the file lacks the configuration or a tensor
   */
  public static DecoderModel load(Path path, Precision precision) {
    try (SafeTensorsFile f = SafeTensorsFile.open(path)) {
      String json = f.metadata().get(CONFIG_METADATA_KEY);
      if (json == null) {
        throw new SerializationException(path + ": no '" + CONFIG_METADATA_KEY + "' metadata; use fromWeights with an explicit DecoderConfig");
      }
      DecoderConfig config;
      try {
        config = JSON.readValue(json, DecoderConfig.class);
      } catch (JsonProcessingException e) {
        throw new SerializationException(path + ": bad '" + CONFIG_METADATA_KEY + "' metadata: " + e.getOriginalMessage(), e);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(path + ": invalid decoder configuration: " + e.getMessage(), e);
      }
      return fromWeights(config, precision, sourceOf(f));
    }
  }

  /**
   * Wraps an open safetensors file as a {@link WeightSource} that understands Aphelion's packed
   * ternary convention.
   *
   * @param file the file; must stay open while the source is used
   * @return the source
   */
  public static WeightSource sourceOf(SafeTensorsFile file) {
    return new WeightSource() {
      @Override
      public float[] floats(String name, long... shape) {
        return file.floats(name, shape);
      }

      @Override
      public Optional<PackedTernary> packed(String prefix, int rows, int cols) {
        if (!TernaryTensors.contains(file, prefix)) {
          return Optional.empty();
        }
        PackedTernary p = TernaryTensors.read(file, prefix);
        if (p.rows() != rows || p.cols() != cols) {
          throw new ShapeException(file.path() + ": packed ternary '" + prefix + "' is [" + p.rows() + ", " + p.cols() + "], expected [" + rows + ", " + cols + "]");
        }
        return Optional.of(p);
      }

      @Override
      public boolean contains(String name) {
        return file.contains(name);
      }
    };
  }

  /**
   * Writes the model as safetensors: ternary projections packed (see docs/formats.md), dense ones
   * and all norms as F32, the embedding/head dequantized to F32, and the configuration and
   * precision as metadata.
   *
   * @param path the destination
   */
  public void save(Path path) {
    SafeTensorsWriter w = new SafeTensorsWriter();
    int hs = config.hiddenSize();
    w.addF32("model.embed_tokens.weight", new long[] {config.vocabSize(), hs}, embedding.toFloats());
    for (int l = 0; l < blocks.length; l++) {
      String p = "model.layers." + l + ".";
      Block b = blocks[l];
      w.addF32(p + "input_layernorm.weight", new long[] {hs}, b.attnNorm.weight());
      saveLinear(w, p + "self_attn.q_proj", b.q);
      saveLinear(w, p + "self_attn.k_proj", b.k);
      saveLinear(w, p + "self_attn.v_proj", b.v);
      saveLinear(w, p + "self_attn.o_proj", b.o);
      if (b.attnSubNorm != null) {
        w.addF32(p + "self_attn.attn_sub_norm.weight", new long[] {hs}, b.attnSubNorm.weight());
      }
      w.addF32(p + "post_attention_layernorm.weight", new long[] {hs}, b.ffnNorm.weight());
      saveLinear(w, p + "mlp.gate_proj", b.gate);
      saveLinear(w, p + "mlp.up_proj", b.up);
      saveLinear(w, p + "mlp.down_proj", b.down);
      if (b.ffnSubNorm != null) {
        w.addF32(p + "mlp.ffn_sub_norm.weight", new long[] {config.ffnSize()}, b.ffnSubNorm.weight());
      }
    }
    w.addF32("model.norm.weight", new long[] {hs}, finalNorm.weight());
    if (!config.tiedEmbeddings()) {
      w.addF32("lm_head.weight", new long[] {config.vocabSize(), hs}, head.toFloats());
    }
    try {
      w.metadata(CONFIG_METADATA_KEY, JSON.writeValueAsString(config));
    } catch (JsonProcessingException e) {
      throw new SerializationException("cannot encode the decoder configuration: " + e.getMessage(), e);
    }
    w.metadata(PRECISION_METADATA_KEY, precision.name());
    w.write(path);
  }

  private static void saveLinear(SafeTensorsWriter w, String prefix, LinearLayer layer) {
    switch (layer) {
      case TernaryLayer t -> {
        TernaryTensors.add(w, prefix, t.packed());
        t.bias().ifPresent(b -> w.addF32(prefix + ".bias", new long[] {b.length}, b));
      }
      case DenseLayer d -> {
        w.addF32(prefix + ".weight", new long[] {d.outFeatures(), d.inFeatures()}, d.weights());
        d.bias().ifPresent(b -> w.addF32(prefix + ".bias", new long[] {b.length}, b));
      }
    }
  }

  /** The shape. */
  public DecoderConfig config() {
    return config;
  }

  /** The weight format. */
  public Precision precision() {
    return precision;
  }

  /**
   * Bytes held by all weights: projections, norms, embedding and (untied) head.
   */
  public long weightMemoryBytes() {
    long total = embedding.memoryBytes() + (config.tiedEmbeddings() ? 0 : head.memoryBytes())
        + (long) finalNorm.size() * Float.BYTES;
    for (Block b : blocks) {
      total += b.memoryBytes();
    }
    return total;
  }

  /** Bytes held by the projection weights of all blocks only (the part BitNet makes ternary). */
  public long projectionMemoryBytes() {
    long total = 0;
    for (Block b : blocks) {
      total += b.q.memoryBytes() + b.k.memoryBytes() + b.v.memoryBytes() + b.o.memoryBytes()
          + b.gate.memoryBytes() + b.up.memoryBytes() + b.down.memoryBytes();
    }
    return total;
  }

  /** The projections of block {@code layer} in the order q, k, v, o, gate, up, down. */
  public List<LinearLayer> projections(int layer) {
    Block b = blocks[Objects.checkIndex(layer, blocks.length)];
    return List.of(b.q, b.k, b.v, b.o, b.gate, b.up, b.down);
  }

  /**
   * A cache shaped for this model.
   *
   * @param sequences independent sequences
   * @param capacity tokens per sequence (window length under sliding-window eviction)
   * @param policy what happens when a sequence is full
   * @param storage f32 or int8 storage
   * @return a new, empty cache
   */
  public KVCache newCache(int sequences, int capacity, KVCache.EvictionPolicy policy, KVCache.Storage storage) {
    return KVCache.builder().layers(config.numLayers()).sequences(sequences).kvHeads(config.numKvHeads())
        .headDim(config.headDim()).capacity(capacity).policy(policy).storage(storage).build();
  }

  /**
   * Feeds a run of tokens of one sequence (a prompt, or a single token when decoding) and returns
   * logits.
   *
   * @param cache the cache; the tokens are appended to sequence {@code seq}
   * @param seq the sequence
   * @param tokens the tokens, at least one
   * @param allLogits {@code true} for the logits of every token ({@code tokens.length·vocab}),
   *     {@code false} for the last token's only ({@code vocab})
   * @return the logits
   * @throws ShapeException if a token is outside the vocabulary or the cache is full under {@code
   *     ERROR}
   */
  public float[] forward(KVCache cache, int seq, int[] tokens, boolean allLogits) {
    if (tokens.length == 0) {
      throw new ShapeException("no tokens to forward");
    }
    int[] seqs = new int[tokens.length];
    java.util.Arrays.fill(seqs, seq);
    int[] logitRows;
    if (allLogits) {
      logitRows = new int[tokens.length];
      for (int i = 0; i < logitRows.length; i++) {
        logitRows[i] = i;
      }
    } else {
      logitRows = new int[] {tokens.length - 1};
    }
    return run(cache, seqs, tokens, logitRows);
  }

  /**
   * One decoding step for several sequences at once: token {@code tokens[i]} is appended to
   * sequence {@code seqs[i]}. The projections run as one matrix-matrix product over the batch.
   *
   * @param cache the cache
   * @param seqs distinct sequence indices
   * @param tokens one token per sequence
   * @return {@code seqs.length·vocab} logits
   */
  public float[] step(KVCache cache, int[] seqs, int[] tokens) {
    if (seqs.length != tokens.length || seqs.length == 0) {
      throw new ShapeException("step needs one token per sequence, got " + seqs.length + " sequences and " + tokens.length + " tokens");
    }
    boolean[] seen = new boolean[cache.sequences()];
    for (int s : seqs) {
      if (s < 0 || s >= seen.length) {
        throw new ShapeException("sequence " + s + " outside the cache's [0, " + seen.length + ")");
      }
      if (seen[s]) {
        throw new ShapeException("sequence " + s + " appears twice in one step");
      }
      seen[s] = true;
    }
    int[] rows = new int[seqs.length];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = i;
    }
    return run(cache, seqs, tokens, rows);
  }

  /**
   * Generates tokens for one sequence: feeds the prompt, then samples one token at a time until
   * {@code maxNewTokens} or {@code stopToken}.
   *
   * @param cache the cache; sequence {@code seq} is reset first
   * @param seq the sequence to use
   * @param prompt at least one token
   * @param maxNewTokens tokens to generate at most
   * @param sampler picks each token
   * @param stopToken a token that ends generation (included in the result), or -1
   * @return the generated tokens (without the prompt)
   */
  public int[] generate(KVCache cache, int seq, int[] prompt, int maxNewTokens, Sampler sampler, int stopToken) {
    if (maxNewTokens < 0) {
      throw new ConfigException("maxNewTokens must be >= 0, got " + maxNewTokens);
    }
    cache.reset(seq);
    int[] out = new int[maxNewTokens];
    if (maxNewTokens == 0) {
      return out;
    }
    float[] logits = forward(cache, seq, prompt, false);
    int v = config.vocabSize();
    for (int i = 0; i < maxNewTokens; i++) {
      int t = sampler.sample(logits, 0, v);
      out[i] = t;
      if (t == stopToken) {
        return java.util.Arrays.copyOf(out, i + 1);
      }
      if (i + 1 < maxNewTokens) {
        logits = forward(cache, seq, new int[] {t}, false);
      }
    }
    return out;
  }

  /**
   * Generates with a fresh single-sequence cache sized for the prompt and the new tokens.
   *
   * @param prompt at least one token
   * @param maxNewTokens tokens to generate at most
   * @param sampler picks each token
   * @return the generated tokens
   */
  public int[] generate(int[] prompt, int maxNewTokens, Sampler sampler) {
    KVCache cache = newCache(1, prompt.length + Math.max(1, maxNewTokens), KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
    return generate(cache, 0, prompt, maxNewTokens, sampler, -1);
  }

  /** The core: rows are (sequence, token) pairs in order; rows of one sequence are consecutive positions. */
  private float[] run(KVCache cache, int[] seqs, int[] tokens, int[] logitRows) {
    checkCache(cache);
    int[] claimed = cache.claim(seqs);
    try {
      return backend != null ? backend.run(cache, seqs, tokens, logitRows) : runClaimed(cache, seqs, tokens, logitRows);
    } finally {
      cache.release(claimed);
    }
  }

  private float[] runClaimed(KVCache cache, int[] seqs, int[] tokens, int[] logitRows) {
    int rows = tokens.length;
    int hs = config.hiddenSize();
    int kvs = config.kvSize();
    int ff = config.ffnSize();
    int hd = config.headDim();
    int nh = config.numHeads();
    int group = config.groupSize();
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
    float[] x = new float[rows * hs];
    for (int r = 0; r < rows; r++) {
      embedding.lookup(tokens[r], x, r * hs);
    }
    float[] n = new float[rows * hs];
    float[] q = new float[rows * hs];
    float[] k = new float[rows * kvs];
    float[] v = new float[rows * kvs];
    float[] att = new float[rows * hs];
    float[] o = new float[rows * hs];
    float[] g = new float[rows * ff];
    float[] u = new float[rows * ff];
    float scale = (float) (1.0 / Math.sqrt(hd));
    for (int l = 0; l < blocks.length; l++) {
      Block b = blocks[l];
      b.attnNorm.apply(x, n, rows);
      project(n, rows, b.q, q, b.k, k, b.v, v);
      for (int r = 0; r < rows; r++) {
        rope.apply(q, r * hs, nh, pos[r]);
        rope.apply(k, r * kvs, config.numKvHeads(), pos[r]);
      }
      final int layer = l;
      for (int r = 0; r < rows; r++) {
        // Store this token before attending so it sees itself; later rows are not stored yet, which
        // keeps attention causal inside a multi-token call.
        cache.put(l, seqs[r], pos[r], k, r * kvs, v, r * kvs);
        final int row = r;
        AttentionHeads.run(nh, cache.capacity(), Math.min(pos[r] + 1, cache.capacity()), (h, scores) ->
            cache.attend(layer, seqs[row], pos[row], h / group, q, row * hs + h * hd, scale, att, row * hs + h * hd, scores));
      }
      if (b.attnSubNorm != null) {
        b.attnSubNorm.apply(att, att, rows);
      }
      b.o.forward(att, o, rows);
      add(x, o, rows * hs);
      b.ffnNorm.apply(x, n, rows);
      project(n, rows, b.gate, g, b.up, u, null, null);
      config.activation().applyGated(g, u, rows * ff);
      if (b.ffnSubNorm != null) {
        b.ffnSubNorm.apply(g, g, rows);
      }
      b.down.forward(g, o, rows);
      add(x, o, rows * hs);
    }
    float[] sel = new float[logitRows.length * hs];
    for (int i = 0; i < logitRows.length; i++) {
      System.arraycopy(x, logitRows[i] * hs, sel, i * hs, hs);
    }
    finalNorm.apply(sel, sel, logitRows.length);
    float[] logits = new float[logitRows.length * config.vocabSize()];
    head.logits(sel, logits, logitRows.length);
    for (int s = 0; s < added.length; s++) {
      if (added[s] > 0) {
        cache.advance(s, added[s]);
      }
    }
    return logits;
  }

  private void checkCache(KVCache cache) {
    Objects.requireNonNull(cache, "cache");
    if (cache.layers() != config.numLayers() || cache.kvHeads() != config.numKvHeads() || cache.headDim() != config.headDim()) {
      throw new ShapeException("cache " + cache + " does not fit the model (layers " + config.numLayers() + ", kvHeads "
          + config.numKvHeads() + ", headDim " + config.headDim() + ")");
    }
  }

  /**
   * Two or three projections of the same input; ternary ones run as one pool job on one
   * quantization of {@code x} (bit for bit what separate {@code forward} calls give).
   */
  private static void project(float[] x, int rows, LinearLayer l1, float[] y1, LinearLayer l2, float[] y2, LinearLayer l3,
      float[] y3) {
    if (l1 instanceof TernaryLayer t1 && l2 instanceof TernaryLayer t2 && (l3 == null || l3 instanceof TernaryLayer)) {
      if (l3 == null) {
        TernaryLayer.forwardShared(new TernaryLayer[] {t1, t2}, x, new float[][] {y1, y2}, rows);
      } else {
        TernaryLayer.forwardShared(new TernaryLayer[] {t1, t2, (TernaryLayer) l3}, x, new float[][] {y1, y2, y3}, rows);
      }
      return;
    }
    l1.forward(x, y1, rows);
    l2.forward(x, y2, rows);
    if (l3 != null) {
      l3.forward(x, y3, rows);
    }
  }

  private static void add(float[] x, float[] y, int n) {
    for (int i = 0; i < n; i++) {
      x[i] += y[i];
    }
  }

  // Package-private views for the reference implementation in the tests.
  Block block(int layer) {
    return blocks[layer];
  }

  EmbeddingTable embedding() {
    return embedding;
  }

  EmbeddingTable head() {
    return head;
  }

  RmsNorm finalNorm() {
    return finalNorm;
  }

  RotaryEmbedding rope() {
    return rope;
  }

  @Override
  public String toString() {
    List<String> parts = new ArrayList<>();
    parts.add(precision.name());
    parts.add(config.toString());
    return "DecoderModel" + parts;
  }
}
