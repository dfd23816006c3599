package dev.aphelion.tritter.accel;

import dev.aphelion.core.config.ConfigValue;
import dev.aphelion.core.config.ModelConfig;
import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.GraphException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.graph.GraphNode;
import dev.aphelion.tritter.io.SafeTensorsFile;
import dev.aphelion.tritter.io.WeightSource;
import dev.aphelion.tritter.model.DecoderConfig;
import dev.aphelion.tritter.model.DecoderModel;
import dev.aphelion.tritter.model.FfnActivation;
import dev.aphelion.tritter.model.KVCache;
import dev.aphelion.tritter.model.Precision;
import dev.aphelion.tritter.nn.DenseLayer;
import dev.aphelion.tritter.nn.LinearLayer;
import dev.aphelion.tritter.nn.RmsNorm;
import dev.aphelion.tritter.nn.TernaryLayer;
import dev.aphelion.tritter.ternary.PackedTernary;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A runnable model built from a {@link BuildGraph} plus weights: the handoff's {@code from_graph}.
 *
 * <p>The graph must be a chain (each node has at most one input and one output) and is run in
 * {@link BuildGraph#topologicalOrder()}. Supported op types:
 *
 * <ul>
 *   <li>{@code linear}: params {@code in_features}, {@code out_features}, optional {@code bias}
 *       (boolean); weights {@code <id>.weight} {@code [out, in]} and {@code <id>.bias}; f32.
 *   <li>{@code ternary_linear}: the same params (plus optional {@code group_size}); weights either
 *       packed ({@code <id>.weight_packed}/{@code <id>.weight_scale}) or f32 {@code <id>.weight},
 *       quantized once with absmean; activations int8 unless the node's {@value
 *       AccelerationStage#ATTR_ACTIVATIONS} attribute says {@code f32}.
 *   <li>{@code relu}, {@code squared_relu}, {@code gelu} (tanh form), {@code silu}, {@code
 *       sigmoid}, {@code tanh}, {@code softmax} (per row), {@code identity}, {@code input},
 *       {@code output}: element-wise or per-row, no weights.
 *   <li>{@code rms_norm}: param {@code size}, optional {@code eps} (default 1e-5); weight {@code
 *       <id>.weight}.
 *   <li>{@code transformer_decoder}: a whole {@link DecoderModel}; params {@code vocab_size},
 *       {@code hidden_size}, {@code num_layers}, {@code num_heads}, optional {@code num_kv_heads},
 *       {@code ffn_size}, optional {@code activation} ({@code swiglu} or {@code squared_relu}),
 *       {@code rms_norm_eps}, {@code rope_theta}, {@code tied_embeddings}; weights under {@code
 *       <id>.} in Hugging Face LLaMA names. Ternary when the node carries {@value
 *       AccelerationStage#ATTR_QUANTIZATION} or the graph says {@value
 *       AccelerationStage#ATTR_TERNARY_LAYERS}. It must be the only compute node; run it with
 *       {@link #forwardTokens}.
 * </ul>
 *
 * <p>Immutable apart from the KV cache of {@link #withKvCache}; one caller at a time per instance
 * when a cache is used.
 */
public final class AcceleratedInference {

  private sealed interface Op permits Linear, Elementwise, Softmax, Norm, Decoder {}

  private record Linear(String id, LinearLayer layer) implements Op {}

  private record Elementwise(String id, String kind) implements Op {}

  private record Softmax(String id) implements Op {}

  private record Norm(String id, RmsNorm norm) implements Op {}

  private record Decoder(String id, DecoderModel model) implements Op {}

  private final List<Op> ops;
  private final int inputSize;
  private final int outputSize;
  private final int batchSize;
  private final InferenceEngine engine;
  private final KVCache cache;

  private AcceleratedInference(List<Op> ops, int inputSize, int outputSize, int batchSize, InferenceEngine engine, KVCache cache) {
    this.ops = ops;
    this.inputSize = inputSize;
    this.outputSize = outputSize;
    this.batchSize = batchSize;
    this.engine = engine;
    this.cache = cache;
  }

  /**
   * Builds a model from a graph and a safetensors file.
   *
   * @param graph the graph
   * @param weights the safetensors file; read completely here and closed again
   * @return the model
   */
  public static AcceleratedInference fromGraph(BuildGraph graph, Path weights) {
    try (SafeTensorsFile f = SafeTensorsFile.open(weights)) {
      return fromGraph(graph, DecoderModel.sourceOf(f));
    }
  }

  /**
   * Builds a model from a graph and in-memory weights keyed by tensor name ({@code <id>.weight},
   * {@code <id>.bias}, ...).
   *
   * @param graph the graph
   * @param weights the tensors
   * @return the model
   */
  public static AcceleratedInference fromGraph(BuildGraph graph, Map<String, float[]> weights) {
    return fromGraph(graph, WeightSource.ofMap(weights));
  }

  /**
   * Builds a model from a graph and a weight source.
   *
   * @param graph the graph
   * @param weights the tensors
   * @return the model
   * @throws GraphException if the graph is not a chain, has an unknown op type or a missing param
   * @throws ShapeException if consecutive widths or weight shapes disagree
   */
  public static AcceleratedInference fromGraph(BuildGraph graph, WeightSource weights) {
    Objects.requireNonNull(graph, "graph");
    Objects.requireNonNull(weights, "weights");
    if (graph.nodeCount() == 0) {
      throw new GraphException("cannot build a model from an empty graph");
    }
    for (GraphNode n : graph.nodes()) {
      if (graph.predecessors(n.id()).size() > 1 || graph.successors(n.id()).size() > 1) {
        throw new GraphException("AcceleratedInference runs chains only: node '" + n.id() + "' has "
            + graph.predecessors(n.id()).size() + " inputs and " + graph.successors(n.id()).size() + " outputs");
      }
    }
    if (graph.edgeCount() != graph.nodeCount() - 1) {
      throw new GraphException("AcceleratedInference runs one connected chain; the graph has " + graph.nodeCount()
          + " nodes but " + graph.edgeCount() + " edges");
    }
    boolean graphTernary = graph.attribute(AccelerationStage.ATTR_TERNARY_LAYERS)
        .map(v -> v instanceof ConfigValue.BooleanValue b && b.value()).orElse(false);
    List<Op> ops = new ArrayList<>();
    int width = -1;
    int input = -1;
    boolean decoder = false;
    for (GraphNode n : graph.topologicalOrder()) {
      String op = n.opType().toLowerCase(Locale.ROOT);
      switch (op) {
        case "linear", "ternary_linear" -> {
          int in = intParam(n, "in_features");
          int out = intParam(n, "out_features");
          if (width >= 0 && width != in) {
            throw new ShapeException("node '" + n.id() + "' expects " + in + " inputs but the previous node produces " + width);
          }
          if (input < 0) {
            input = in;
          }
          ops.add(new Linear(n.id(), linear(n, op.equals("ternary_linear"), weights, in, out)));
          width = out;
        }
        case "relu", "squared_relu", "gelu", "silu", "sigmoid", "tanh" -> ops.add(new Elementwise(n.id(), op));
        case "identity", "input", "output" -> {
          // no computation
        }
        case "softmax" -> ops.add(new Softmax(n.id()));
        case "rms_norm" -> {
          int size = intParam(n, "size");
          if (width >= 0 && width != size) {
            throw new ShapeException("rms_norm node '" + n.id() + "' has size " + size + " but receives " + width);
          }
          if (input < 0) {
            input = size;
          }
          double eps = n.config().getDoubleOrDefault("eps", 1e-5);
          ops.add(new Norm(n.id(), new RmsNorm(weights.floats(n.id() + ".weight", size), (float) eps)));
          width = size;
        }
        case "transformer_decoder" -> {
          DecoderConfig dc = decoderConfig(n);
          boolean ternary = graphTernary || n.attribute(AccelerationStage.ATTR_QUANTIZATION).isPresent();
          DecoderModel m = DecoderModel.fromWeights(dc, ternary ? Precision.TERNARY : Precision.DENSE_F32, weights.withPrefix(n.id() + "."));
          ops.add(new Decoder(n.id(), m));
          decoder = true;
          width = dc.vocabSize();
        }
        default -> throw new GraphException("node '" + n.id() + "' has unsupported op type '" + n.opType()
            + "' (supported: linear, ternary_linear, relu, squared_relu, gelu, silu, sigmoid, tanh, softmax, rms_norm, identity, input, output, transformer_decoder)");
      }
    }
    if (decoder && ops.size() != 1) {
      throw new GraphException("a transformer_decoder node must be the graph's only compute node; found " + ops.size() + " compute nodes");
    }
    if (!decoder && width < 0) {
      throw new GraphException("the graph has no node that fixes its width (linear, ternary_linear or rms_norm)");
    }
    int batch = (int) AccelerationStage.longAttribute(graph, AccelerationStage.ATTR_BATCH_SIZE).orElse(0L).longValue();
    KVCache cache = null;
    long capacity = AccelerationStage.longAttribute(graph, AccelerationStage.ATTR_KV_CAPACITY).orElse(0L);
    if (decoder && capacity > 0) {
      KVCache.EvictionPolicy policy = AccelerationStage.stringAttribute(graph, AccelerationStage.ATTR_KV_POLICY)
          .map(KVCache.EvictionPolicy::valueOf).orElse(KVCache.EvictionPolicy.ERROR);
      KVCache.Storage storage = AccelerationStage.stringAttribute(graph, AccelerationStage.ATTR_KV_STORAGE)
          .map(KVCache.Storage::valueOf).orElse(KVCache.Storage.FLOAT32);
      cache = ((Decoder) ops.get(0)).model().newCache(1, Math.toIntExact(capacity), policy, storage);
    }
    return new AcceleratedInference(List.copyOf(ops), decoder ? 0 : input, width, batch, null, cache);
  }

  private static LinearLayer linear(GraphNode n, boolean ternary, WeightSource w, int in, int out) {
    String id = n.id();
    boolean hasBias = n.config().getBooleanOrDefault("bias", false);
    float[] bias = hasBias ? w.floats(id + ".bias", out) : null;
    if (!ternary) {
      Optional<PackedTernary> p = w.packed(id, out, in);
      return DenseLayer.of(p.isPresent() ? TernaryLayer.dequantize(p.get()) : w.floats(id + ".weight", out, in), out, in, bias);
    }
    TernaryLayer.Activations act = n.attribute(AccelerationStage.ATTR_ACTIVATIONS)
        .map(v -> v instanceof ConfigValue.StringValue s && s.value().equals("f32") ? TernaryLayer.Activations.FLOAT32 : TernaryLayer.Activations.INT8)
        .orElse(TernaryLayer.Activations.INT8);
    Optional<PackedTernary> p = w.packed(id, out, in);
    if (p.isPresent()) {
      return TernaryLayer.of(p.get(), bias, act);
    }
    int group = (int) n.config().getLongOrDefault("group_size", in);
    return TernaryLayer.quantize(w.floats(id + ".weight", out, in), out, in, group, bias, act);
  }

  private static int intParam(GraphNode n, String key) {
    ModelConfig c = n.config();
    if (!c.has(key)) {
      throw new GraphException("node '" + n.id() + "' (" + n.opType() + ") needs the integer param '" + key + "'");
    }
    long v = c.getLong(key);
    if (v <= 0 || v > Integer.MAX_VALUE) {
      throw new GraphException("node '" + n.id() + "' param '" + key + "' must be a positive int, got " + v);
    }
    return (int) v;
  }

  private static DecoderConfig decoderConfig(GraphNode n) {
    ModelConfig c = n.config();
    int heads = intParam(n, "num_heads");
    String act = c.getStringOrDefault("activation", "swiglu").toUpperCase(Locale.ROOT);
    FfnActivation activation;
    try {
      activation = FfnActivation.valueOf(act);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("node '" + n.id() + "' activation '" + act + "' is not swiglu or squared_relu", e);
    }
    return DecoderConfig.builder().vocabSize(intParam(n, "vocab_size")).hiddenSize(intParam(n, "hidden_size"))
        .numLayers(intParam(n, "num_layers")).numHeads(heads).numKvHeads((int) c.getLongOrDefault("num_kv_heads", heads))
        .ffnSize(intParam(n, "ffn_size")).activation(activation).rmsNormEps((float) c.getDoubleOrDefault("rms_norm_eps", 1e-5))
        .ropeTheta((float) c.getDoubleOrDefault("rope_theta", 10000)).tiedEmbeddings(c.getBooleanOrDefault("tied_embeddings", true))
        .build();
  }

  /**
   * The same model running its batches on an engine (split at the engine's maximum batch size,
   * batches in parallel).
   *
   * @param engine the engine
   * @return a new instance sharing the weights
   */
  public AcceleratedInference withEngine(InferenceEngine engine) {
    return new AcceleratedInference(ops, inputSize, outputSize, batchSize, Objects.requireNonNull(engine, "engine"), cache);
  }

  /**
   * The same decoder with a fresh KV cache of {@code maxSeqLen} tokens (error when full): {@link
   * #forwardTokens} then appends to it instead of recomputing.
   *
   * @param maxSeqLen tokens the cache holds
   * @return a new instance sharing the weights
   * @throws GraphException if the graph has no transformer_decoder node
   */
  public AcceleratedInference withKvCache(int maxSeqLen) {
    DecoderModel m = decoder().orElseThrow(() -> new GraphException("withKvCache needs a transformer_decoder node; this graph runs " + opTypes()));
    return new AcceleratedInference(ops, inputSize, outputSize, batchSize, engine,
        m.newCache(1, maxSeqLen, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32));
  }

  /** The decoder model, when the graph is a transformer_decoder. */
  public Optional<DecoderModel> decoder() {
    return ops.size() == 1 && ops.get(0) instanceof Decoder d ? Optional.of(d.model()) : Optional.empty();
  }

  /** The cache, if any. */
  public Optional<KVCache> kvCache() {
    return Optional.ofNullable(cache);
  }

  /** Floats per input row (0 for a decoder, which takes tokens). */
  public int inputSize() {
    return inputSize;
  }

  /** Floats per output row (the vocabulary for a decoder). */
  public int outputSize() {
    return outputSize;
  }

  /** The batch size recorded by {@link AccelerationStage}, or 0. */
  public int batchSize() {
    return batchSize;
  }

  /** The op of every compute step, in order, as {@code id:kind}. */
  public List<String> opTypes() {
    List<String> out = new ArrayList<>();
    for (Op op : ops) {
      out.add(switch (op) {
        case Linear l -> l.id() + ":" + (l.layer() instanceof TernaryLayer ? "ternary_linear" : "linear");
        case Elementwise e -> e.id() + ":" + e.kind();
        case Softmax s -> s.id() + ":softmax";
        case Norm nm -> nm.id() + ":rms_norm";
        case Decoder d -> d.id() + ":transformer_decoder";
      });
    }
    return out;
  }

  /** Bytes held by all weights. */
  public long weightMemoryBytes() {
    long total = 0;
    for (Op op : ops) {
      total += switch (op) {
        case Linear l -> l.layer().memoryBytes();
        case Norm nm -> (long) nm.norm().size() * Float.BYTES;
        case Decoder d -> d.model().weightMemoryBytes();
        default -> 0L;
      };
    }
    return total;
  }

  /**
   * Runs {@code rows} input rows through the chain. With an engine, rows above its maximum batch
   * are split and run in parallel.
   *
   * @param input {@code rows·inputSize()} floats
   * @param rows number of rows
   * @return {@code rows·outputSize()} floats
   * @throws GraphException for a decoder graph (use {@link #forwardTokens})
   * @throws ShapeException if the input length is wrong
   */
  public float[] forward(float[] input, int rows) {
    if (decoder().isPresent()) {
      throw new GraphException("this graph is a transformer_decoder; call forwardTokens");
    }
    if (rows < 1 || input.length != (long) rows * inputSize) {
      throw new ShapeException("input has " + input.length + " floats, expected " + rows + " rows of " + inputSize);
    }
    if (engine != null) {
      return engine.run(this::run, input, rows, inputSize);
    }
    return run(input, rows);
  }

  /**
   * Runs one input row.
   *
   * @param input {@code inputSize()} floats
   * @return {@code outputSize()} floats
   */
  public float[] forward(float[] input) {
    return forward(input, 1);
  }

  private float[] run(float[] input, int rows) {
    float[] x = input.clone();
    int width = inputSize;
    for (Op op : ops) {
      switch (op) {
        case Linear l -> {
          float[] y = new float[rows * l.layer().outFeatures()];
          l.layer().forward(x, y, rows);
          x = y;
          width = l.layer().outFeatures();
        }
        case Elementwise e -> applyElementwise(e.kind(), x);
        case Softmax s -> softmax(x, rows, width);
        case Norm nm -> nm.norm().apply(x, x, rows);
        case Decoder d -> throw new IllegalStateException("unreachable");
      }
    }
    return x;
  }

  /**
   * Feeds tokens to the decoder and returns the logits of the last one. With a KV cache the tokens
   * are appended to what was fed before (call {@link #resetCache()} to start over); without one
   * each call is a fresh sequence.
   *
   * @param tokens at least one token
   * @return {@code vocab} logits
   * @throws GraphException if the graph is not a transformer_decoder
   */
  public float[] forwardTokens(int[] tokens) {
    DecoderModel m = decoder().orElseThrow(() -> new GraphException("forwardTokens needs a transformer_decoder graph; this graph runs " + opTypes()));
    if (cache != null) {
      return m.forward(cache, 0, tokens, false);
    }
    KVCache tmp = m.newCache(1, Math.max(1, tokens.length), KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
    return m.forward(tmp, 0, tokens, false);
  }

  /** Empties the KV cache, if any. */
  public void resetCache() {
    if (cache != null) {
      cache.resetAll();
    }
  }

  private static void applyElementwise(String kind, float[] x) {
    for (int i = 0; i < x.length; i++) {
      float v = x[i];
      x[i] = switch (kind) {
        case "relu" -> Math.max(v, 0f);
        case "squared_relu" -> v > 0 ? v * v : 0f;
        case "gelu" -> (float) (0.5 * v * (1 + Math.tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))));
        case "silu" -> (float) (v / (1 + Math.exp(-v)));
        case "sigmoid" -> (float) (1 / (1 + Math.exp(-v)));
        case "tanh" -> (float) Math.tanh(v);
        default -> throw new IllegalStateException(kind);
      };
    }
  }

  private static void softmax(float[] x, int rows, int width) {
    for (int r = 0; r < rows; r++) {
      int o = r * width;
      float max = Float.NEGATIVE_INFINITY;
      for (int i = 0; i < width; i++) {
        max = Math.max(max, x[o + i]);
      }
      double sum = 0;
      for (int i = 0; i < width; i++) {
        float e = (float) Math.exp(x[o + i] - max);
        x[o + i] = e;
        sum += e;
      }
      float inv = (float) (1 / sum);
      for (int i = 0; i < width; i++) {
        x[o + i] *= inv;
      }
    }
  }

  @Override
  public String toString() {
    return "AcceleratedInference" + opTypes() + (cache != null ? " with " + cache : "");
  }
}
