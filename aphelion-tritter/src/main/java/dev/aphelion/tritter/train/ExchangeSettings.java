package dev.aphelion.tritter.train;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.tritter.compress.CompressionConfig;
import dev.aphelion.tritter.compress.GradientEncoding;
import java.io.Serializable;
import java.util.Objects;

/**
 * How workers' gradients travel in a {@link GradientExchange}: as plain float32 values, or
 * compressed by {@link dev.aphelion.tritter.compress.GradientCompressor} with the given factor,
 * encoding and error feedback (each worker keeps its own residual). Serializable, so that remote
 * workers build identical codecs.
 *
 * @param compressed whether gradients are compressed
 * @param compressionFactor the target factor, for example 32 for 32x smaller (ignored for float32)
 * @param seed the job-wide compression seed
 * @param errorFeedback whether each worker carries what its codec dropped into the next step
 * @param encoding the compression encoding
 */
public record ExchangeSettings(boolean compressed, double compressionFactor, long seed, boolean errorFeedback,
    GradientEncoding encoding) implements Serializable {

  /** Checks the settings (a compressed exchange's factor must be in [1, 1 / CompressionConfig.MIN_RATIO]). */
  public ExchangeSettings {
    Objects.requireNonNull(encoding, "encoding");
    double max = 1 / CompressionConfig.MIN_RATIO;
    if (compressed && !(compressionFactor >= 1 && compressionFactor <= max)) {
      throw new ConfigException("compression factor must be in [1, " + Math.round(max) + "], got " + compressionFactor);
    }
  }

  /** Uncompressed float32 gradients: the mean is exact. */
  public static ExchangeSettings float32() {
    return new ExchangeSettings(false, 1, 0, false, CompressionConfig.DEFAULT_ENCODING);
  }

  /**
   * Compressed gradients with error feedback and the default encoding.
   *
   * @param factor the target factor, 1 to {@code 1 / CompressionConfig.MIN_RATIO}
   * @param seed the job-wide seed
   * @return the settings
   */
  public static ExchangeSettings compressed(double factor, long seed) {
    return new ExchangeSettings(true, factor, seed, true, CompressionConfig.DEFAULT_ENCODING);
  }

  /**
   * How much larger than the binary message a transport may make it, allowed for in the
   * compressor's budget: 8/7 for the 7-bit text of the Spark barrier transport, plus 1/64 for its
   * two-byte characters.
   */
  public static final double TRANSPORT_ALLOWANCE = 8.0 / 7 * (1 + 1.0 / 64);

  /**
   * The compressor settings of a compressed exchange, its factor applied to the compressor's own
   * bytes (as {@link dev.aphelion.tritter.compress.GradientCompressor} counts them).
   */
  public CompressionConfig compressionConfig() {
    if (!compressed) {
      throw new ConfigException("a float32 exchange has no compression settings");
    }
    return CompressionConfig.builder().compressionFactor(compressionFactor).seed(seed).errorFeedback(errorFeedback)
        .encoding(encoding).build();
  }

  /**
   * The compressor settings a {@link MessageExchange} uses: the budget chosen so that what
   * travels, the {@link MessageExchange#HEADER_BYTES}-byte header included and expanded by
   * {@link #TRANSPORT_ALLOWANCE}, is {@code compressionFactor} times smaller than float32 (the
   * compressor's own bytes are then about 1.17 times smaller still). The budget never goes below
   * {@link CompressionConfig#MIN_RATIO}, so a tiny gradient may not reach the factor.
   *
   * @param dimension the gradient length
   * @return the compressor settings
   */
  public CompressionConfig wireCompressionConfig(int dimension) {
    if (!compressed) {
      throw new ConfigException("a float32 exchange has no compression settings");
    }
    double f32 = 4.0 * dimension;
    double ratio = (f32 / compressionFactor / TRANSPORT_ALLOWANCE - MessageExchange.HEADER_BYTES) / f32;
    ratio = Math.min(1.0, Math.max(CompressionConfig.MIN_RATIO, ratio));
    return CompressionConfig.builder().compressionRatio(ratio).seed(seed).errorFeedback(errorFeedback).encoding(encoding)
        .build();
  }

  /** A short name for logs, for example {@code f32} or {@code compressed-32x}. */
  public String name() {
    return compressed ? String.format(java.util.Locale.ROOT, "compressed-%.0fx", compressionFactor) : "f32";
  }
}
