package dev.aphelion.examples.fashion.nn;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.compress.CompressionConfig;
import dev.aphelion.tritter.compress.GradientCompressor;
import dev.aphelion.tritter.compress.TernaryCompressedGradient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Gradient exchange through the library's {@link GradientCompressor}: each worker compresses its
 * gradient with its own compressor (which keeps that worker's error-feedback residual), the
 * message travels as bytes ({@link TernaryCompressedGradient#toBytes()}), and the receiver parses
 * the bytes and averages the decoded gradients ({@link GradientCompressor#aggregateInto}). The
 * byte count is the length of the serialized messages, headers, scales and checksums included. For
 * the linear count sketch the receiver sums the tables before decoding, selects the k coordinates
 * from the sum, and a second round carries every worker's exact values there (both rounds'
 * bytes are counted).
 */
public final class CompressedExchange implements GradientExchange {
  private final List<GradientCompressor> compressors;
  private final byte[][] wire;
  private final TernaryCompressedGradient[] tables;
  private final AtomicLong wireBytes = new AtomicLong();
  private final AtomicLong float32Bytes = new AtomicLong();

  /**
   * Creates the exchange over one compressor per worker, for example those of
   * {@code GradientCompressionHook.COMPRESSORS} or {@link GradientCompressor#forWorkers}.
   *
   * @param compressors index = worker; all made with the same settings and dimension
   */
  public CompressedExchange(List<GradientCompressor> compressors) {
    if (compressors.isEmpty()) {
      throw new ShapeException("a compressed exchange needs at least one worker's compressor");
    }
    this.compressors = List.copyOf(compressors);
    this.wire = new byte[compressors.size()][];
    this.tables = new TernaryCompressedGradient[compressors.size()];
  }

  /**
   * Creates the exchange with fresh compressors.
   *
   * @param config the compression settings (ratio, seed, error feedback), shared by all workers
   * @param dimension the gradient length
   * @param workers the number of workers
   */
  public CompressedExchange(CompressionConfig config, int dimension, int workers) {
    this(GradientCompressor.forWorkers(config, dimension, workers));
  }

  @Override
  public String name() {
    return String.format(java.util.Locale.ROOT, "compressed-%.0fx",
        compressors.getFirst().config().compressionFactor());
  }

  /** The compression settings. */
  public CompressionConfig config() {
    return compressors.getFirst().config();
  }

  @Override
  public void send(int worker, float[] gradient) {
    TernaryCompressedGradient message = compressors.get(worker).compress(gradient);
    byte[] bytes = message.toBytes();
    wire[worker] = bytes;
    tables[worker] = message;
    wireBytes.addAndGet(bytes.length);
    float32Bytes.addAndGet(4L * gradient.length);
  }

  @Override
  public void combine(float[] out) {
    GradientCompressor receiver = compressors.getFirst();
    List<TernaryCompressedGradient> messages = new ArrayList<>(wire.length);
    for (int w = 0; w < wire.length; w++) {
      if (wire[w] != null) {
        messages.add(receiver.read(wire[w]));
        wire[w] = null;
      }
    }
    if (messages.isEmpty()) {
      throw new ShapeException("combine called before any worker sent a gradient");
    }
    if (!receiver.config().encoding().isLinear()) {
      java.util.Arrays.fill(tables, null);
      receiver.aggregateInto(messages, out);
      return;
    }
    // the count sketch: sum the tables, select the k coordinates from the sum, then a second
    // round in which every worker sends its exact values there (and drops them from its residual)
    float[] weights = new float[messages.size()];
    java.util.Arrays.fill(weights, 1f / messages.size());
    int[] chosen = receiver.select(receiver.combine(messages, weights));
    List<TernaryCompressedGradient> values = new ArrayList<>(messages.size());
    for (int w = 0; w < compressors.size(); w++) {
      if (tables[w] != null) {
        byte[] bytes = compressors.get(w).values(tables[w], chosen).toBytes();
        wireBytes.addAndGet(bytes.length);
        values.add(receiver.read(bytes));
        tables[w] = null;
      }
    }
    receiver.scatter(receiver.combine(values, weights), chosen, out);
  }

  @Override
  public long wireBytes() {
    return wireBytes.get();
  }

  @Override
  public long float32Bytes() {
    return float32Bytes.get();
  }
}
