package dev.aphelion.tritter.compress;

import dev.aphelion.core.error.ConfigException;
import java.util.OptionalDouble;

/**
 * Settings of gradient compression for data-parallel training.
 *
 * @param compressionRatio target wire size as a fraction of the f32 gradient's bytes, 0.01 (100x
 *     smaller) to 1; headers, scales and checksum count against it
 * @param seed seed shared by all workers of one job; part of every message so that gradients of
 *     different jobs cannot be mixed, and it seeds the threshold sampling
 * @param clipNorm when positive, each worker's gradient is scaled down to this global L2 norm
 *     before compression; 0 means no clipping
 * @param errorFeedback whether each compressor keeps what the codec dropped and adds it to the next
 *     step's gradient (on by default; turning it off makes compression lossy without recovery)
 * @param encoding how gradients are encoded (see {@link GradientEncoding}); all workers of a job
 *     must use the same one
 * @param sketchRows the number of rows r of the {@link GradientEncoding#COUNT_SKETCH} encoding, odd,
 *     1 to 15 (ignored by the other encodings)
 */
public record CompressionConfig(double compressionRatio, long seed, double clipNorm, boolean errorFeedback,
    GradientEncoding encoding, int sketchRows) {

  /** The default number of count sketch rows. */
  public static final int DEFAULT_SKETCH_ROWS = 3;

  /** The smallest accepted compression ratio (1000x; DGC reports 270-600x). */
  public static final double MIN_RATIO = 0.001;

  /**
   * Validates the settings.
   *
   * @throws ConfigException if the ratio is outside [0.001, 1], the clip norm is negative or not
   *     finite, or the encoding is null
   */
  public CompressionConfig {
    if (encoding == null) {
      throw new ConfigException("encoding must be set (HEAVY_HITTERS, VSA_SKETCH or COUNT_SKETCH)");
    }
    if (!(compressionRatio >= MIN_RATIO && compressionRatio <= 1.0)) {
      throw new ConfigException("compressionRatio must be in [0.001, 1] (fraction of f32 bytes; 0.03 = 33x, 0.001 = 1000x), got " + compressionRatio);
    }
    if (!(clipNorm >= 0.0) || Double.isInfinite(clipNorm)) {
      throw new ConfigException("clipNorm must be a finite value >= 0 (0 = no clipping), got " + clipNorm);
    }
    if (sketchRows < 1 || sketchRows > GradientWireFormat.COUNT_SKETCH_MAX_ROWS || sketchRows % 2 == 0) {
      throw new ConfigException("sketchRows must be odd and in [1, " + GradientWireFormat.COUNT_SKETCH_MAX_ROWS
          + "] (the median over rows needs an odd count), got " + sketchRows);
    }
  }

  /**
   * Settings with {@link #DEFAULT_SKETCH_ROWS} count sketch rows.
   *
   * @param compressionRatio see the record
   * @param seed see the record
   * @param clipNorm see the record
   * @param errorFeedback see the record
   * @param encoding see the record
   */
  public CompressionConfig(double compressionRatio, long seed, double clipNorm, boolean errorFeedback,
      GradientEncoding encoding) {
    this(compressionRatio, seed, clipNorm, errorFeedback, encoding, DEFAULT_SKETCH_ROWS);
  }

  /** The encoding used when none is set: {@link GradientEncoding#HEAVY_HITTERS}. */
  public static final GradientEncoding DEFAULT_ENCODING = GradientEncoding.HEAVY_HITTERS;

  /** Defaults: ratio 0.1 (10x), seed 0, no clipping, error feedback on, {@link #DEFAULT_ENCODING}. */
  public static CompressionConfig defaults() {
    return builder().build();
  }

  /** A builder starting from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** The clip norm when clipping is on. */
  public OptionalDouble clipping() {
    return clipNorm > 0 ? OptionalDouble.of(clipNorm) : OptionalDouble.empty();
  }

  /** The target compression factor, {@code 1 / compressionRatio} (for example 32 for 0.03125). */
  public double compressionFactor() {
    return 1.0 / compressionRatio;
  }

  /** A builder for {@link CompressionConfig}; not thread-safe. */
  public static final class Builder {
    private double compressionRatio = 0.1;
    private long seed;
    private double clipNorm;
    private boolean errorFeedback = true;
    private GradientEncoding encoding = DEFAULT_ENCODING;
    private int sketchRows = DEFAULT_SKETCH_ROWS;

    private Builder() {}

    /**
     * Sets the target wire fraction, 0.01 to 1.
     *
     * @param ratio the fraction of f32 bytes
     * @return this builder
     */
    public Builder compressionRatio(double ratio) {
      this.compressionRatio = ratio;
      return this;
    }

    /**
     * Sets the target as a factor, for example 32 for 32x smaller (ratio 1/32).
     *
     * @param factor 1 to 1000
     * @return this builder
     */
    public Builder compressionFactor(double factor) {
      if (!(factor > 0)) {
        throw new ConfigException("compression factor must be positive, got " + factor);
      }
      this.compressionRatio = 1.0 / factor;
      return this;
    }

    /**
     * Sets the job-wide seed.
     *
     * @param seed the seed
     * @return this builder
     */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /**
     * Turns on clipping of each worker's gradient to a global L2 norm.
     *
     * @param norm positive norm, or 0 for no clipping
     * @return this builder
     */
    public Builder clipNorm(double norm) {
      this.clipNorm = norm;
      return this;
    }

    /**
     * Turns error feedback on or off (default on).
     *
     * @param on whether to carry the residual to the next step
     * @return this builder
     */
    public Builder errorFeedback(boolean on) {
      this.errorFeedback = on;
      return this;
    }

    /**
     * Sets the encoding (default {@link CompressionConfig#DEFAULT_ENCODING}).
     *
     * @param encoding heavy hitters, the VSA sketch or the count sketch
     * @return this builder
     */
    public Builder encoding(GradientEncoding encoding) {
      this.encoding = encoding;
      return this;
    }

    /**
     * Sets the number of count sketch rows (default {@link CompressionConfig#DEFAULT_SKETCH_ROWS}).
     *
     * @param rows odd, 1 to 15
     * @return this builder
     */
    public Builder sketchRows(int rows) {
      this.sketchRows = rows;
      return this;
    }

    /**
     * Builds and validates the configuration.
     *
     * @return the configuration
     * @throws ConfigException if a value is out of range
     */
    public CompressionConfig build() {
      return new CompressionConfig(compressionRatio, seed, clipNorm, errorFeedback, encoding, sketchRows);
    }
  }
}
