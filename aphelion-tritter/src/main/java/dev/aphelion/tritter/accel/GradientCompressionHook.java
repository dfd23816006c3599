package dev.aphelion.tritter.accel;

import dev.aphelion.core.config.ConfigValue;
import dev.aphelion.core.error.ValidationException;
import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.pipeline.BuildContext;
import dev.aphelion.core.pipeline.ContextKey;
import dev.aphelion.core.pipeline.PipelineHook;
import dev.aphelion.core.pipeline.PipelineResult;
import dev.aphelion.tritter.compress.CompressionConfig;
import dev.aphelion.tritter.compress.CompressionStats;
import dev.aphelion.tritter.compress.GradientCompressor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A {@link PipelineHook} that prepares gradient compression for the training loop that follows a
 * build pipeline: before the first stage it publishes the {@link CompressionConfig} under {@link
 * #CONFIG} and a {@link CompressorFactory} (one {@link GradientCompressor} per worker) under {@link
 * #COMPRESSORS} in the context's attribute store and traces the settings; after every stage it
 * checks that a compression ratio or seed recorded in the graph (attributes {@code
 * tritter.compression_ratio} and {@code tritter.seed}, as {@code AccelerationStage} writes them)
 * agrees with its own settings; after the run it traces the compression totals of the compressors
 * the factory made so far.
 *
 * <pre>{@code
 * BuildPipeline p = BuildPipeline.training().toBuilder()
 *     .hook(new GradientCompressionHook(CompressionConfig.builder().compressionFactor(32).seed(42).build()))
 *     .build();
 * p.execute(ctx, graph);
 * List<GradientCompressor> workers = ctx.require(GradientCompressionHook.COMPRESSORS).forWorkers(dimension, 4);
 * }</pre>
 */
public final class GradientCompressionHook implements PipelineHook {
  /** The hook's name. */
  public static final String NAME = "gradient-compression";
  /** Where the settings are published. */
  public static final ContextKey<CompressionConfig> CONFIG = ContextKey.of("tritter.gradient.config", CompressionConfig.class);
  /** Where the per-worker compressor factory is published. */
  public static final ContextKey<CompressorFactory> COMPRESSORS =
      ContextKey.of("tritter.gradient.compressors", CompressorFactory.class);
  /** Graph attribute holding a compression ratio that must agree with the hook's. */
  public static final String ATTR_COMPRESSION_RATIO = "tritter.compression_ratio";
  /** Graph attribute holding a seed that must agree with the hook's. */
  public static final String ATTR_SEED = "tritter.seed";

  private final CompressionConfig config;
  private final CompressorFactory factory;

  /**
   * Creates the hook.
   *
   * @param config validated settings shared by all workers
   */
  public GradientCompressionHook(CompressionConfig config) {
    this.config = Objects.requireNonNull(config, "config");
    this.factory = new CompressorFactory(config);
  }

  /**
   * A hook with a ratio and seed and the other settings at their defaults.
   *
   * @param compressionRatio wire fraction, 0.01 to 1
   * @param seed the job seed
   * @return the hook
   */
  public static GradientCompressionHook of(double compressionRatio, long seed) {
    return new GradientCompressionHook(CompressionConfig.builder().compressionRatio(compressionRatio).seed(seed).build());
  }

  @Override
  public String name() {
    return NAME;
  }

  /** The settings. */
  public CompressionConfig config() {
    return config;
  }

  /** The factory this hook publishes. */
  public CompressorFactory factory() {
    return factory;
  }

  @Override
  public void beforePipeline(BuildContext ctx, BuildGraph graph) {
    check(graph);
    ctx.put(CONFIG, config);
    ctx.put(COMPRESSORS, factory);
    Map<String, Object> attrs = new LinkedHashMap<>();
    attrs.put("compression_ratio", config.compressionRatio());
    attrs.put("compression_factor", config.compressionFactor());
    attrs.put("seed", config.seed());
    attrs.put("error_feedback", config.errorFeedback());
    attrs.put("clip_norm", config.clipNorm());
    ctx.tracer().event(dev.aphelion.core.trace.TraceLevel.INFO, String.format(java.util.Locale.ROOT,
        "gradient compression: ratio %.4f (%.1fx), seed %d, error feedback %s, clipping %s", config.compressionRatio(),
        config.compressionFactor(), config.seed(), config.errorFeedback() ? "on" : "off",
        config.clipping().isPresent() ? "at norm " + config.clipNorm() : "off"), attrs);
  }

  @Override
  public void afterStage(BuildContext ctx, String stageName, BuildGraph graphAfter, Duration duration) {
    check(graphAfter);
  }

  @Override
  public void afterPipeline(BuildContext ctx, PipelineResult result) {
    CompressionStats s = factory.totals();
    if (s.steps() > 0) {
      ctx.tracer().event(dev.aphelion.core.trace.TraceLevel.INFO, String.format(java.util.Locale.ROOT,
          "gradient compression totals: %d gradients, %d -> %d bytes (%.1fx)", s.steps(), s.originalBytes(),
          s.wireBytes(), s.compressionFactor()), Map.of("steps", s.steps(), "wire_bytes", s.wireBytes(),
          "original_bytes", s.originalBytes()));
    }
  }

  /** Rejects a graph whose recorded compression settings disagree with this hook's. */
  private void check(BuildGraph graph) {
    if (graph == null) {
      return;
    }
    graph.attribute(ATTR_COMPRESSION_RATIO).ifPresent(v -> {
      double r = v instanceof ConfigValue.DoubleValue d ? d.value() : v instanceof ConfigValue.LongValue l ? l.value() : Double.NaN;
      if (!(Math.abs(r - config.compressionRatio()) <= 1e-12)) {
        throw new ValidationException("graph attribute " + ATTR_COMPRESSION_RATIO + " = " + v + " disagrees with the "
            + NAME + " hook's compression ratio " + config.compressionRatio());
      }
    });
    graph.attribute(ATTR_SEED).ifPresent(v -> {
      if (!(v instanceof ConfigValue.LongValue l) || l.value() != config.seed()) {
        throw new ValidationException("graph attribute " + ATTR_SEED + " = " + v + " disagrees with the " + NAME
            + " hook's seed " + config.seed());
      }
    });
  }

  @Override
  public String toString() {
    return NAME + "[" + config + "]";
  }

  /**
   * Makes the compressors of one job, all with the same settings, and keeps them to report totals.
   * Thread-safe.
   */
  public static final class CompressorFactory {
    private final CompressionConfig config;
    private final List<GradientCompressor> made = new ArrayList<>();

    /**
     * Creates a factory.
     *
     * @param config the job's settings
     */
    public CompressorFactory(CompressionConfig config) {
      this.config = Objects.requireNonNull(config, "config");
    }

    /** The job's settings. */
    public CompressionConfig config() {
      return config;
    }

    /**
     * One compressor (for one worker).
     *
     * @param dimension the gradient size
     * @return a fresh compressor with an empty residual
     */
    public synchronized GradientCompressor create(int dimension) {
      GradientCompressor c = new GradientCompressor(config, dimension);
      made.add(c);
      return c;
    }

    /**
     * One compressor per worker.
     *
     * @param dimension the gradient size
     * @param workers the number of workers
     * @return the compressors, index = worker
     */
    public synchronized List<GradientCompressor> forWorkers(int dimension, int workers) {
      List<GradientCompressor> list = GradientCompressor.forWorkers(config, dimension, workers);
      made.addAll(list);
      return list;
    }

    /** Totals over every compressor made so far (residual norm: the largest). */
    public synchronized CompressionStats totals() {
      long steps = 0, original = 0, wire = 0;
      int lastWire = 0, lastNz = 0;
      double residual = 0;
      for (GradientCompressor c : made) {
        CompressionStats s = c.stats();
        steps += s.steps();
        original += s.originalBytes();
        wire += s.wireBytes();
        lastWire += s.lastWireBytes();
        lastNz += s.lastNonZeros();
        residual = Math.max(residual, s.residualNorm());
      }
      return new CompressionStats(steps, original, wire, lastWire, lastNz, residual);
    }
  }
}
