package dev.aphelion.cuda.training;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.cuda.driver.CudaContext;
import dev.aphelion.cuda.driver.CudaKernel;
import dev.aphelion.cuda.driver.CudaModule;
import dev.aphelion.cuda.driver.CudaStream;
import dev.aphelion.cuda.driver.DeviceBuffer;
import dev.aphelion.cuda.ternary.KernelImage;
import dev.aphelion.tritter.compress.CompressionConfig;
import dev.aphelion.tritter.compress.GradientEncoding;
import dev.aphelion.tritter.compress.GradientWireFormat;
import dev.aphelion.tritter.compress.TernaryCompressedGradient;
import java.util.Objects;

/**
 * The VSA sketch gradient encoding ({@link GradientEncoding#VSA_SKETCH}, docs/formats.md,
 * "Encoding 2: VSA sketch") on the GPU, with the error-feedback residual kept on the device.
 *
 * <p>Produces the same wire bytes as aphelion-tritter's {@code GradientCompressor} with the same
 * {@link CompressionConfig} and dimension, step for step (the residual evolves identically), and
 * decodes any VSA sketch message of the job to the same floats: every float and double operation
 * of the specification is one explicitly rounded CUDA intrinsic in the specification's order
 * (a bucket thread adds its blocks in ascending order; the lane and chunk sums follow the
 * reference's 16 lanes per 1024 buckets; the chunk totals are added by one thread). The clip
 * factor uses the gradient's sum of squares on the host, in the order {@code
 * CompressionKernels.sumOfSquares} specifies (the same bits as every CPU path).
 *
 * <p>Not thread-safe. Close it to free the device buffers and the module.
 */
public final class CudaGradientCompressor implements AutoCloseable {

  private static final int THREADS = 256;
  private static final int HEADER_BYTES = GradientWireFormat.HEADER_BYTES;
  private static final int CHUNK = GradientWireFormat.SKETCH_SUM_CHUNK;

  private final CudaContext context;
  private final CudaModule module;
  private final CudaStream stream;
  private final CompressionConfig config;
  private final int n;
  private final int m;
  private final int blocks;
  private final int wordsPerBlock;
  private final int chunks;
  private final long fingerprint;
  private final CudaKernel keysK;
  private final CudaKernel accumulateK;
  private final CudaKernel bindK;
  private final CudaKernel chunkSumsK;
  private final CudaKernel totalK;
  private final CudaKernel ternarizeK;
  private final CudaKernel scaleK;
  private final CudaKernel unbindK;
  private final DeviceBuffer e;
  private final DeviceBuffer g;
  private final DeviceBuffer h;
  private final DeviceBuffer keys;
  private final DeviceBuffer rot;
  private final DeviceBuffer chunkSums;
  private final DeviceBuffer fstats;
  private final DeviceBuffer dstats;
  private final DeviceBuffer counts;
  private final DeviceBuffer trits;
  private long step;

  /**
   * Creates a compressor on a context (which stays the caller's to close).
   *
   * @param context the CUDA context
   * @param config the job's configuration; its encoding must be {@link GradientEncoding#VSA_SKETCH}
   * @param dimension number of gradient values, at least 1
   * @throws ConfigException if the encoding is not the VSA sketch
   * @throws ShapeException if the dimension is not positive
   */
  public CudaGradientCompressor(CudaContext context, CompressionConfig config, int dimension) {
    this.context = Objects.requireNonNull(context, "context");
    this.config = Objects.requireNonNull(config, "config");
    if (config.encoding() != GradientEncoding.VSA_SKETCH) {
      throw new ConfigException("the GPU compressor implements the VSA sketch encoding only, the config asks for "
          + config.encoding());
    }
    if (dimension < 1) {
      throw new ShapeException("gradient dimension must be at least 1, got " + dimension);
    }
    this.n = dimension;
    this.m = sketchDimension(dimension, config.compressionRatio());
    this.blocks = (int) (((long) n + m - 1) / m);
    this.wordsPerBlock = (m + 63) >>> 6;
    this.chunks = (m + CHUNK - 1) / CHUNK;
    this.fingerprint = GradientWireFormat.seedFingerprint(config.seed());
    CudaModule mod = context.loadModule(KernelImage.fatbin());
    this.module = mod;
    DeviceBuffer[] owned = new DeviceBuffer[10];
    try {
      stream = context.createStream();
      keysK = mod.kernel("aph_vsa_keys");
      accumulateK = mod.kernel("aph_vsa_accumulate");
      bindK = mod.kernel("aph_vsa_bind");
      chunkSumsK = mod.kernel("aph_vsa_chunk_sums");
      totalK = mod.kernel("aph_vsa_total");
      ternarizeK = mod.kernel("aph_vsa_ternarize");
      scaleK = mod.kernel("aph_vsa_scale");
      unbindK = mod.kernel("aph_vsa_unbind");
      e = owned[0] = context.allocate(4L * n);
      g = owned[1] = context.allocate(4L * n);
      h = owned[2] = context.allocate(4L * m);
      keys = owned[3] = context.allocate(8L * blocks * wordsPerBlock);
      rot = owned[4] = context.allocate(4L * blocks);
      chunkSums = owned[5] = context.allocate(8L * chunks);
      fstats = owned[6] = context.allocate(8);
      dstats = owned[7] = context.allocate(8);
      counts = owned[8] = context.allocate(16);
      trits = owned[9] = context.allocate((m + 3) / 4);
      e.write(new float[n], 0);
    } catch (RuntimeException ex) {
      for (DeviceBuffer b : owned) {
        if (b != null) {
          b.close();
        }
      }
      mod.close();
      throw ex;
    }
  }

  /**
   * The hypervector dimension m for n values at a wire ratio (docs/formats.md, step 1).
   *
   * @param n gradient values
   * @param ratio wire bytes over 4 n
   * @return m in [1, n]
   */
  public static int sketchDimension(int n, double ratio) {
    return GradientWireFormat.sketchDimension(n, ratio);
  }

  /**
   * The number of gradient values.
   *
   * @return n
   */
  public int dimension() {
    return n;
  }

  /**
   * The hypervector dimension of every message.
   *
   * @return m
   */
  public int sketchDimension() {
    return m;
  }

  /**
   * The step the next message will carry.
   *
   * @return steps compressed so far
   */
  public long step() {
    return step;
  }

  /**
   * Adds a gradient to the device residual, encodes it and keeps on the device what the receiver
   * will not see (with error feedback on).
   *
   * @param gradient exactly {@link #dimension()} finite values (not modified)
   * @return the message, byte for byte what the CPU compressor produces
   * @throws ShapeException if the length is wrong or a value is NaN or infinite (the residual is
   *     then unchanged)
   */
  public TernaryCompressedGradient compress(float[] gradient) {
    Objects.requireNonNull(gradient, "gradient");
    if (gradient.length != n) {
      throw new ShapeException("gradient has " + gradient.length + " values, this compressor was made for " + n);
    }
    // the CPU compressor's specified summation order, so the clip factor is bit-identical
    double sumSq = GradientWireFormat.sumOfSquares(gradient, n);
    if (!Double.isFinite(sumSq)) {
      throw new ShapeException("gradient holds NaN or infinite values (step " + step + "); skip the step instead");
    }
    float c = 1f;
    if (config.clipNorm() > 0 && Math.sqrt(sumSq) > config.clipNorm()) {
      c = (float) (config.clipNorm() / Math.sqrt(sumSq));
    }
    stream.synchronize();
    counts.write(new int[4], 0);
    g.write(gradient, 0);
    accumulateK.launch(stream, grid(n), block(), 0, e, g, c, n, config.errorFeedback() ? 1 : 0);
    generateKeys(step);
    bindK.launch(stream, grid(m), block(), 0, e, n, m, blocks, wordsPerBlock, keys, rot, h);
    chunkSumsK.launch(stream, grid(chunks), block(), 0, h, m, fstats, -1, chunkSums);
    totalK.launch(stream, new int[] {1}, new int[] {32}, 0, chunkSums, chunks, m, 0, fstats, dstats);
    int lastLen = n - (blocks - 1) * m;
    int lastR = rotation(step, blocks - 1);
    ternarizeK.launch(stream, grid((m + 3) / 4), block(), 0, h, m, fstats, lastR, lastLen, trits, counts);
    chunkSumsK.launch(stream, grid(chunks), block(), 0, h, m, fstats, 0, chunkSums);
    totalK.launch(stream, new int[] {1}, new int[] {32}, 0, chunkSums, chunks, m, 1, fstats, dstats);
    scaleK.launch(stream, new int[] {1}, new int[] {32}, 0, dstats, counts, blocks, lastLen, m, fstats);
    if (config.errorFeedback()) {
      unbindK.launch(stream, grid(n), block(), 0, trits, n, m, wordsPerBlock, keys, rot, Float.NaN, fstats, 2, e);
    }
    stream.synchronize();
    int tritBytes = (m + 3) / 4;
    byte[] out = new byte[GradientWireFormat.sketchMessageBytes(m)];
    byte[] t = new byte[tritBytes];
    trits.read(t, 0);
    System.arraycopy(t, 0, out, HEADER_BYTES, tritBytes);
    float[] stats = new float[2];
    fstats.read(stats, 0);
    GradientWireFormat.sealSketch(out, n, step, fingerprint, m, stats[1]);
    step++;
    return TernaryCompressedGradient.fromBytes(out);
  }

  /**
   * Decodes a VSA sketch message of this job on the GPU (docs/formats.md, step 8).
   *
   * @param message a message with this compressor's dimension and seed fingerprint
   * @param out receives the first {@link #dimension()} decoded values
   * @throws ShapeException if the message does not belong to this job or {@code out} is short
   */
  public void decompressInto(TernaryCompressedGradient message, float[] out) {
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(out, "out");
    if (message.encoding() != GradientEncoding.VSA_SKETCH) {
      throw new ShapeException("message uses " + message.encoding() + ", not the VSA sketch");
    }
    if (message.dimension() != n || message.seedFingerprint() != fingerprint || message.sketchDimension() != m) {
      throw new ShapeException("message (dimension " + message.dimension() + ", m " + message.sketchDimension()
          + ") does not belong to this job (dimension " + n + ", m " + m + ", or another seed)");
    }
    if (out.length < n) {
      throw new ShapeException("output holds " + out.length + " values, the gradient has dimension " + n);
    }
    byte[] wire = message.toBytes();
    float scale = message.scales()[0];
    stream.synchronize();
    trits.write(java.util.Arrays.copyOfRange(wire, HEADER_BYTES, HEADER_BYTES + (m + 3) / 4), 0);
    generateKeys(message.step());
    unbindK.launch(stream, grid(n), block(), 0, trits, n, m, wordsPerBlock, keys, rot, scale, fstats, 0, g);
    stream.synchronize();
    float[] r = new float[n];
    g.read(r, 0);
    System.arraycopy(r, 0, out, 0, n);
  }

  /**
   * A copy of the device residual.
   *
   * @return n floats
   */
  public float[] residual() {
    stream.synchronize();
    float[] r = new float[n];
    e.read(r, 0);
    return r;
  }

  private void generateKeys(long s) {
    long sigma = stepSeed(s);
    keysK.launch(stream, grid((long) blocks * wordsPerBlock), block(), 0, sigma, n, m, blocks, wordsPerBlock, keys, rot);
  }

  private long stepSeed(long s) {
    return GradientWireFormat.sketchStepSeed(config.seed(), s);
  }

  /** Rotation of block j at a step, on the host (the last block's, for the scale's count). */
  private int rotation(long s, int j) {
    return GradientWireFormat.sketchRotation(stepSeed(s), j, m);
  }

  private static int[] grid(long threads) {
    return new int[] {(int) Math.max(1, (threads + THREADS - 1) / THREADS)};
  }

  private static int[] block() {
    return new int[] {THREADS};
  }

  /** Frees the device buffers, the stream and the module. */
  @Override
  public void close() {
    try {
      for (DeviceBuffer b : new DeviceBuffer[] {e, g, h, keys, rot, chunkSums, fstats, dstats, counts, trits}) {
        b.close();
      }
      stream.close();
    } finally {
      module.close();
    }
  }
}
