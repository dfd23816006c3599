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

  /** The compressor settings of a compressed exchange. */
  public CompressionConfig compressionConfig() {
    if (!compressed) {
      throw new ConfigException("a float32 exchange has no compression settings");
    }
    return CompressionConfig.builder().compressionFactor(compressionFactor).seed(seed).errorFeedback(errorFeedback)
        .encoding(encoding).build();
  }

  /** A short name for logs, for example {@code f32} or {@code compressed-32x}. */
  public String name() {
    return compressed ? String.format(java.util.Locale.ROOT, "compressed-%.0fx", compressionFactor) : "f32";
  }
}
