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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * The count sketch gradient encoding ({@link GradientEncoding#COUNT_SKETCH}, docs/formats.md,
 * "Encoding 3: count sketch") on the GPU, with the error-feedback residual on the device.
 *
 * <p>{@link #compress} (round 1) and {@link #values} (round 2) produce the same bytes as
 * aphelion-tritter's {@code GradientCompressor} with the same {@link CompressionConfig} and
 * dimension, step for step: a bucket thread adds its blocks in ascending order with one rounded
 * add each, the row maxima are exact, and the int8 codes use the specification's rounded product
 * and ties-to-even rounding. Selection ({@code GradientCompressor.select}) and decoding stay on the
 * CPU, which sums the workers' tables.
 *
 * <p>Not thread-safe. Close it to free the device buffers and the module.
 */
public final class CudaCountSketch implements AutoCloseable {
  private static final int THREADS = 256;
  private static final int HEADER_BYTES = GradientWireFormat.HEADER_BYTES;

  private final CompressionConfig config;
  private final int n;
  private final int rows;
  private final int c;
  private final int k;
  private final int blocks;
  private final int words;
  private final long fingerprint;
  private final CudaModule module;
  private final CudaStream stream;
  private final CudaKernel accumulateK;
  private final CudaKernel keysK;
  private final CudaKernel bindK;
  private final CudaKernel quantizeK;
  private final CudaKernel gatherK;
  private final CudaKernel scatterK;
  private final DeviceBuffer e;
  private final DeviceBuffer g;
  private final DeviceBuffer seeds;
  private final DeviceBuffer keys;
  private final DeviceBuffer rot;
  private final DeviceBuffer h;
  private final DeviceBuffer amax;
  private final DeviceBuffer scales;
  private final DeviceBuffer codes;
  private final DeviceBuffer idx;
  private final DeviceBuffer vals;
  private long step;
  private long pendingStep = -1;

  /**
   * Creates the GPU side of one worker (the context stays the caller's to close).
   *
   * @param context the CUDA context
   * @param config the job's configuration; its encoding must be {@link GradientEncoding#COUNT_SKETCH}
   *     with error feedback on
   * @param dimension number of gradient values, at least 1
   * @throws ConfigException if the encoding is another one or error feedback is off
   * @throws ShapeException if the dimension is not positive
   */
  public CudaCountSketch(CudaContext context, CompressionConfig config, int dimension) {
    Objects.requireNonNull(context, "context");
    this.config = Objects.requireNonNull(config, "config");
    if (config.encoding() != GradientEncoding.COUNT_SKETCH || !config.errorFeedback()) {
      throw new ConfigException("the GPU count sketch needs the COUNT_SKETCH encoding with error feedback, the config asks for "
          + config.encoding() + (config.errorFeedback() ? "" : " without error feedback"));
    }
    if (dimension < 1) {
      throw new ShapeException("gradient dimension must be at least 1, got " + dimension);
    }
    this.n = dimension;
    this.rows = config.sketchRows();
    this.c = GradientWireFormat.countSketchColumns(n, config.compressionRatio(), rows);
    this.k = GradientWireFormat.countSketchTopK(n, c);
    this.blocks = (int) (((long) n + c - 1) / c);
    this.words = (c + 63) >>> 6;
    this.fingerprint = GradientWireFormat.seedFingerprint(config.seed());
    CudaModule mod = context.loadModule(KernelImage.fatbin());
    this.module = mod;
    DeviceBuffer[] owned = new DeviceBuffer[11];
    try {
      stream = context.createStream();
      accumulateK = mod.kernel("aph_vsa_accumulate");
      keysK = mod.kernel("aph_cs_keys");
      bindK = mod.kernel("aph_cs_bind");
      quantizeK = mod.kernel("aph_cs_quantize");
      gatherK = mod.kernel("aph_cs_gather");
      scatterK = mod.kernel("aph_cs_scatter");
      e = owned[0] = context.allocate(4L * n);
      g = owned[1] = context.allocate(4L * n);
      seeds = owned[2] = context.allocate(8L * rows);
      keys = owned[3] = context.allocate(8L * rows * blocks * words);
      rot = owned[4] = context.allocate(4L * rows * blocks);
      h = owned[5] = context.allocate(4L * rows * c);
      amax = owned[6] = context.allocate(4L * rows);
      scales = owned[7] = context.allocate(4L * rows);
      codes = owned[8] = context.allocate((long) rows * c);
      idx = owned[9] = context.allocate(4L * k);
      vals = owned[10] = context.allocate(4L * k);
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

  /** The number of gradient values. */
  public int dimension() {
    return n;
  }

  /** The number of columns c of every table. */
  public int columns() {
    return c;
  }

  /** The step the next table will carry. */
  public long step() {
    return step;
  }

  /**
   * Round 1: adds the gradient (clipped as configured) to the device residual and returns its
   * table message.
   *
   * @param gradient exactly {@link #dimension()} finite values (not modified)
   * @return the table, byte for byte what the CPU compressor produces
   * @throws ShapeException if the length is wrong or a value is NaN or infinite
   * @throws IllegalStateException if the previous step's round 2 has not run
   */
  public TernaryCompressedGradient compress(float[] gradient) {
    Objects.requireNonNull(gradient, "gradient");
    if (gradient.length != n) {
      throw new ShapeException("gradient has " + gradient.length + " values, this compressor was made for " + n);
    }
    if (pendingStep >= 0) {
      throw new IllegalStateException("count sketch step " + pendingStep + " is still waiting for its round 2 (values)");
    }
    double sumSq = GradientWireFormat.sumOfSquares(gradient, n);
    if (!Double.isFinite(sumSq)) {
      throw new ShapeException("gradient holds NaN or infinite values (step " + step + "); skip the step instead");
    }
    float clip = 1f;
    if (config.clipNorm() > 0 && Math.sqrt(sumSq) > config.clipNorm()) {
      clip = (float) (config.clipNorm() / Math.sqrt(sumSq));
    }
    int[] seedWords = new int[2 * rows];
    for (int r = 0; r < rows; r++) {
      long s = GradientWireFormat.countSketchRowSeed(config.seed(), step, r);
      seedWords[2 * r] = (int) s;
      seedWords[2 * r + 1] = (int) (s >>> 32);
    }
    stream.synchronize();
    seeds.write(seedWords, 0);
    amax.write(new int[rows], 0);
    g.write(gradient, 0);
    accumulateK.launch(stream, grid(n), block(), 0, e, g, clip, n, 1);
    keysK.launch(stream, grid((long) rows * blocks * words), block(), 0, seeds, rows, c, blocks, words, keys, rot);
    bindK.launch(stream, grid((long) rows * c), block(), 0, e, n, rows, c, blocks, words, keys, rot, h, amax);
    quantizeK.launch(stream, grid((long) rows * c), block(), 0, h, rows, c, amax, scales, codes);
    stream.synchronize();
    byte[] out = new byte[GradientWireFormat.countSketchMessageBytes(rows, c)];
    float[] sc = new float[rows];
    scales.read(sc, 0);
    ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    for (int r = 0; r < rows; r++) {
      b.putFloat(HEADER_BYTES + 4 * r, sc[r]);
    }
    byte[] q = new byte[rows * c];
    codes.read(q, 0);
    System.arraycopy(q, 0, out, HEADER_BYTES + 4 * rows, q.length);
    GradientWireFormat.sealCountSketch(out, n, step, fingerprint, rows, c, k);
    pendingStep = step;
    step++;
    return TernaryCompressedGradient.fromBytes(out);
  }

  /**
   * Round 2: the residual at the selected coordinates as a values message (int8 codes with one
   * scale), and {@code e[i] = e[i] - code * scale} there, as the CPU compressor does.
   *
   * @param coordinates {@code GradientCompressor.select} of the summed tables: k ascending indices
   * @return the values message
   * @throws ShapeException if the coordinates do not fit
   * @throws IllegalStateException if no table is waiting for its round 2
   */
  public TernaryCompressedGradient values(int[] coordinates) {
    Objects.requireNonNull(coordinates, "coordinates");
    if (pendingStep < 0) {
      throw new IllegalStateException("no count sketch table is waiting for its round 2");
    }
    if (coordinates.length != k) {
      throw new ShapeException("expected the " + k + " selected coordinates, got " + coordinates.length);
    }
    int prev = -1;
    for (int i : coordinates) {
      if (i <= prev || i >= n) {
        throw new ShapeException("coordinates must ascend within [0, " + n + "), got " + i + " after " + prev);
      }
      prev = i;
    }
    stream.synchronize();
    idx.write(coordinates, 0);
    gatherK.launch(stream, grid(k), block(), 0, e, idx, k, vals);
    stream.synchronize();
    float[] v = new float[k];
    vals.read(v, 0);
    // the k values are few: quantize them on the host, in the specification's order
    float m = 0f;
    for (float x : v) {
      m = Math.max(m, Math.abs(x));
    }
    float scale = GradientWireFormat.countSketchScale(m), inv = GradientWireFormat.countSketchInverse(m);
    byte[] out = new byte[GradientWireFormat.countSketchValuesBytes(k)];
    ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putFloat(HEADER_BYTES, scale);
    for (int j = 0; j < k; j++) {
      int q = GradientWireFormat.countSketchQuantize(v[j], inv);
      out[HEADER_BYTES + 4 + j] = (byte) q;
      v[j] = v[j] - q * scale;
    }
    vals.write(v, 0);
    scatterK.launch(stream, grid(k), block(), 0, e, idx, k, vals);
    stream.synchronize();
    GradientWireFormat.sealCountSketch(out, n, pendingStep, fingerprint, rows, c, k, GradientWireFormat.COUNT_SKETCH_VALUES);
    pendingStep = -1;
    return TernaryCompressedGradient.fromBytes(out);
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
      for (DeviceBuffer b : new DeviceBuffer[] {e, g, seeds, keys, rot, h, amax, scales, codes, idx, vals}) {
        b.close();
      }
      stream.close();
    } finally {
      module.close();
    }
  }
}
