package dev.aphelion.tritter.accel;

import dev.aphelion.core.config.ConfigValue;
import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.graph.GraphNode;
import dev.aphelion.core.pipeline.BuildContext;
import dev.aphelion.core.pipeline.ContextKey;
import dev.aphelion.core.pipeline.PipelineStage;
import dev.aphelion.tritter.model.KVCache;
import java.util.Objects;

/**
 * The pipeline stage that prepares a graph for tritter acceleration, in one of two modes.
 *
 * <p><b>Inference</b> ({@link #inference(int)}): every {@code linear} node becomes a {@code
 * ternary_linear} node (same id, config and edges; attributes {@value #ATTR_QUANTIZATION} = {@code
 * absmean} and {@value #ATTR_ACTIVATIONS} = {@code int8} or {@code f32}), and the graph records the
 * batch size and KV-cache settings as graph attributes. Because graph attributes count in the
 * {@link dev.aphelion.core.hash.GraphDigest}, building the same model for another batch size or
 * cache gives another digest. {@link AcceleratedInference#fromGraph} reads these attributes.
 *
 * <p><b>Training</b> ({@link #training(double)}): the graph records the gradient compression ratio,
 * the compression seed and whether the deterministic phase trainer is used, and every {@code
 * linear}/{@code ternary_linear} node is marked with the compression ratio its gradients get.
 *
 * <p>Either way the chosen {@link Mode} is also put into the {@link BuildContext} under {@link
 * #MODE_KEY} for later stages and hooks. Stage instances are immutable.
 */
public final class AccelerationStage implements PipelineStage {

  /** The stage name. */
  public static final String NAME = "tritter-acceleration";
  /** Context key under which the stage publishes its {@link Mode}. */
  public static final ContextKey<Mode> MODE_KEY = ContextKey.of("tritter.acceleration.mode", Mode.class);

  /** Graph attribute: {@code "inference"} or {@code "training"}. */
  public static final String ATTR_MODE = "tritter.mode";
  /** Graph attribute: the inference batch size. */
  public static final String ATTR_BATCH_SIZE = "tritter.batch_size";
  /** Graph attribute: whether linear layers were made ternary. */
  public static final String ATTR_TERNARY_LAYERS = "tritter.ternary_layers";
  /** Graph attribute: KV-cache capacity in tokens, 0 for no cache. */
  public static final String ATTR_KV_CAPACITY = "tritter.kv_cache.capacity";
  /** Graph attribute: KV-cache eviction policy name. */
  public static final String ATTR_KV_POLICY = "tritter.kv_cache.policy";
  /** Graph attribute: KV-cache storage name. */
  public static final String ATTR_KV_STORAGE = "tritter.kv_cache.storage";
  /** Graph attribute: gradient compression ratio (compressed/original size). */
  public static final String ATTR_COMPRESSION_RATIO = "tritter.compression_ratio";
  /** Graph attribute: seed of the gradient compressor. */
  public static final String ATTR_SEED = "tritter.seed";
  /** Graph attribute: whether the deterministic phase trainer is used. */
  public static final String ATTR_DETERMINISTIC_TRAINER = "tritter.deterministic_trainer";
  /** Node attribute of converted nodes: the weight quantization. */
  public static final String ATTR_QUANTIZATION = "tritter.quantization";
  /** Node attribute of converted nodes: {@code int8} or {@code f32} activations. */
  public static final String ATTR_ACTIVATIONS = "tritter.activations";
  /** Node attribute in training mode: the gradient compression ratio of the node. */
  public static final String ATTR_NODE_COMPRESSION = "tritter.gradient_compression";

  /** Op type of a dense linear layer. */
  public static final String OP_LINEAR = "linear";
  /** Op type of a ternary linear layer. */
  public static final String OP_TERNARY_LINEAR = "ternary_linear";

  /** Op type of a whole decoder-only transformer (see {@link AcceleratedInference}). */
  public static final String OP_TRANSFORMER_DECODER = "transformer_decoder";

  /** The two modes; a closed set. */
  public sealed interface Mode permits Training, Inference {}

  /**
   * Training acceleration.
   *
   * @param compressionRatio compressed size / original size of gradients, in (0, 1]; 0.1 = 10x
   * @param seed the gradient compressor's seed
   * @param deterministicTrainer whether to use the deterministic phase trainer
   */
  public record Training(double compressionRatio, long seed, boolean deterministicTrainer) implements Mode {
    /** Validates the ratio. */
    public Training {
      if (!(compressionRatio > 0 && compressionRatio <= 1)) {
        throw new ConfigException("compression ratio must be in (0, 1], got " + compressionRatio);
      }
    }
  }

  /**
   * Inference acceleration.
   *
   * @param ternaryLayers whether {@code linear} nodes become {@code ternary_linear}
   * @param int8Activations whether ternary layers quantize activations to int8 (BitNet W1.58A8)
   * @param batchSize the maximum batch size, at least 1
   * @param kvCacheCapacity tokens per sequence in the KV cache, 0 for none
   * @param kvPolicy the cache's eviction policy
   * @param kvStorage the cache's storage
   */
  public record Inference(boolean ternaryLayers, boolean int8Activations, int batchSize, int kvCacheCapacity,
      KVCache.EvictionPolicy kvPolicy, KVCache.Storage kvStorage) implements Mode {
    /** Validates the numbers. */
    public Inference {
      Objects.requireNonNull(kvPolicy, "kvPolicy");
      Objects.requireNonNull(kvStorage, "kvStorage");
      if (batchSize < 1) {
        throw new ConfigException("batch size must be >= 1, got " + batchSize);
      }
      if (kvCacheCapacity < 0) {
        throw new ConfigException("KV cache capacity must be >= 0, got " + kvCacheCapacity);
      }
    }
  }

  private final Mode mode;

  private AccelerationStage(Mode mode) {
    this.mode = Objects.requireNonNull(mode, "mode");
  }

  /**
   * A stage for the given mode.
   *
   * @param mode the mode
   * @return the stage
   */
  public static AccelerationStage of(Mode mode) {
    return new AccelerationStage(mode);
  }

  /**
   * Training mode with seed 42 and the deterministic trainer on (the handoff's defaults).
   *
   * @param compressionRatio compressed/original gradient size in (0, 1]
   * @return the stage
   */
  public static AccelerationStage training(double compressionRatio) {
    return new AccelerationStage(new Training(compressionRatio, 42L, true));
  }

  /**
   * Training mode.
   *
   * @param compressionRatio compressed/original gradient size in (0, 1]
   * @param seed the compressor's seed
   * @param deterministicTrainer whether to use the deterministic phase trainer
   * @return the stage
   */
  public static AccelerationStage training(double compressionRatio, long seed, boolean deterministicTrainer) {
    return new AccelerationStage(new Training(compressionRatio, seed, deterministicTrainer));
  }

  /**
   * Inference mode with ternary layers, int8 activations and no KV cache.
   *
   * @param batchSize the maximum batch size
   * @return the stage
   */
  public static AccelerationStage inference(int batchSize) {
    return new AccelerationStage(new Inference(true, true, batchSize, 0, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32));
  }

  /**
   * This inference stage with a KV cache.
   *
   * @param capacity tokens per sequence, at least 1
   * @param policy eviction policy
   * @param storage storage
   * @return a new stage
   * @throws ConfigException if this is a training stage or the capacity is not positive
   */
  public AccelerationStage withKvCache(int capacity, KVCache.EvictionPolicy policy, KVCache.Storage storage) {
    if (!(mode instanceof Inference i)) {
      throw new ConfigException("a KV cache only applies to inference mode");
    }
    if (capacity < 1) {
      throw new ConfigException("KV cache capacity must be >= 1, got " + capacity);
    }
    return new AccelerationStage(new Inference(i.ternaryLayers(), i.int8Activations(), i.batchSize(), capacity, policy, storage));
  }

  /**
   * This inference stage with or without the conversion to ternary layers.
   *
   * @param ternaryLayers whether to convert {@code linear} nodes
   * @param int8Activations whether converted layers use int8 activations
   * @return a new stage
   * @throws ConfigException if this is a training stage
   */
  public AccelerationStage withTernaryLayers(boolean ternaryLayers, boolean int8Activations) {
    if (!(mode instanceof Inference i)) {
      throw new ConfigException("ternary layers only apply to inference mode");
    }
    return new AccelerationStage(new Inference(ternaryLayers, int8Activations, i.batchSize(), i.kvCacheCapacity(), i.kvPolicy(), i.kvStorage()));
  }

  /** The mode. */
  public Mode mode() {
    return mode;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public BuildGraph execute(BuildContext ctx, BuildGraph graph) {
    Objects.requireNonNull(graph, "graph");
    BuildGraph.Builder b = graph.toBuilder();
    switch (mode) {
      case Inference i -> {
        if (i.ternaryLayers()) {
          for (GraphNode n : graph.nodes()) {
            if (n.opType().equals(OP_LINEAR)) {
              b.replaceNode(n.toBuilder().opType(OP_TERNARY_LINEAR)
                  .attribute(ATTR_QUANTIZATION, "absmean")
                  .attribute(ATTR_ACTIVATIONS, i.int8Activations() ? "int8" : "f32")
                  .build());
            } else if (n.opType().equals(OP_TRANSFORMER_DECODER)) {
              // A whole decoder: its projections become ternary when it is built.
              b.replaceNode(n.toBuilder().attribute(ATTR_QUANTIZATION, "absmean").build());
            }
          }
        }
        b.attribute(ATTR_MODE, "inference")
            .attribute(ATTR_TERNARY_LAYERS, i.ternaryLayers())
            .attribute(ATTR_BATCH_SIZE, i.batchSize())
            .attribute(ATTR_KV_CAPACITY, i.kvCacheCapacity());
        if (i.kvCacheCapacity() > 0) {
          b.attribute(ATTR_KV_POLICY, i.kvPolicy().name()).attribute(ATTR_KV_STORAGE, i.kvStorage().name());
        }
      }
      case Training t -> {
        for (GraphNode n : graph.nodes()) {
          if (n.opType().equals(OP_LINEAR) || n.opType().equals(OP_TERNARY_LINEAR)) {
            b.replaceNode(n.toBuilder().attribute(ATTR_NODE_COMPRESSION, t.compressionRatio()).build());
          }
        }
        b.attribute(ATTR_MODE, "training")
            .attribute(ATTR_COMPRESSION_RATIO, t.compressionRatio())
            .attribute(ATTR_SEED, t.seed())
            .attribute(ATTR_DETERMINISTIC_TRAINER, t.deterministicTrainer());
      }
    }
    if (ctx != null) {
      ctx.put(MODE_KEY, mode);
      ctx.tracer().info(NAME + ": " + mode);
    }
    return b.build();
  }

  /** Reads a long graph attribute, if present. */
  static java.util.Optional<Long> longAttribute(BuildGraph g, String key) {
    return g.attribute(key).map(v -> v instanceof ConfigValue.LongValue l ? l.value() : null);
  }

  /** Reads a string graph attribute, if present. */
  static java.util.Optional<String> stringAttribute(BuildGraph g, String key) {
    return g.attribute(key).map(v -> v instanceof ConfigValue.StringValue s ? s.value() : null);
  }

  @Override
  public String toString() {
    return NAME + "[" + mode + "]";
  }
}
