package dev.aphelion.tritter.compress;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.kernel.Vectorization;
import dev.aphelion.tritter.random.SplitMix64;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.ConcurrentModificationException;
import java.util.List;
import java.util.Objects;

/**
 * Compresses one worker's f32 gradients for data-parallel training, 1x to 100x smaller on the wire,
 * with error feedback.
 *
 * <p><b>Encodings</b> ({@link CompressionConfig#encoding()}, all with error feedback: the gradient,
 * clipped if configured, is added to the residual {@code e}, and what the receiver will decode is
 * subtracted from it after encoding, so the rest is carried to the next step).
 * {@link GradientEncoding#VSA_SKETCH}: blocks of {@code e} are bound with seeded ±1 keys and
 * rotations (fresh every step), bundled into a hypervector of m buckets, ternarized with one
 * least-squares scale and sent as 2-bit trits; decoding unbinds. Its exact specification (which a
 * GPU reproduces bit for bit) is in {@code docs/formats.md}. {@link GradientEncoding#HEAVY_HITTERS}
 * (the default, better at 100x): the {@code k} coordinates of largest magnitude as ternary values,
 * a sign per entry plus, when the budget allows, one of up to 128 log-spaced magnitude classes
 * (one f32 scale per class); positions as Rice-coded gaps; {@code k} and the number of classes
 * are the largest that fit the byte budget {@code compressionRatio * 4 * n}, choosing the class
 * count that minimises the reconstruction error estimated on a seeded sample of {@code e}. The
 * measured comparison is in {@code docs/architecture.md}.
 *
 * {@link GradientEncoding#COUNT_SKETCH}: linear, two rounds per step. {@link #compress} returns r
 * rows of int8 buckets (each coordinate added with a seeded sign to one hashed bucket per row);
 * the job sums the workers' tables ({@link #combine}), every worker picks the same k coordinates
 * from the sum ({@link #select}) and sends its residual there ({@link #values}, which also removes
 * it from the residual); the summed values ({@link #combine}, then {@link #scatter}) are the
 * update. {@link #compress} refuses to start a
 * step whose predecessor's round 2 did not run. Measured against heavy hitters in {@code
 * docs/performance.md}.
 *
 * <p><b>Cost.</b> O(n) time per step and O(n) memory (the residual, plus m buckets for the
 * sketch); no projection matrix.
 *
 * <p><b>Several workers.</b> Create one compressor per worker with the same {@link CompressionConfig}
 * ({@link #forWorkers}); each keeps its own residual. The encoding is sparse, not linear in the
 * bytes (the count sketch is: see above), so messages are combined by decoding and averaging: {@link #aggregate} returns the mean of
 * the workers' decoded gradients. Any compressor of the job can aggregate; messages
 * must share dimension, seed and step.
 *
 * <p>Deterministic: the same config, gradients and call order give the same bytes on every JVM and
 * on either kernel path.
 *
 * <p><b>Threads.</b> A compressor holds mutable state (the residual, the step, scratch buffers)
 * and is not thread-safe, but it checks its confinement: every method that touches that state
 * ({@code compress}, {@code decompress}, {@code aggregate}, {@link #reset}, {@link #residual},
 * {@link #stats}) claims the compressor for its duration, and a second thread that calls one
 * meanwhile gets a {@link ConcurrentModificationException} at once instead of corrupting the
 * residual or the messages. Calls that do not overlap may come from different threads (a worker
 * pool that runs each step on whichever thread is free): the claim's atomic hand-over orders
 * them, so each sees the state the previous one left. Use one instance per worker ({@link
 * #forWorkers}).
 */
public final class GradientCompressor {
  private static final int SAMPLE = 4096;
  /** Sign plus up to 7 class bits: 128 log-spaced magnitude classes. */
  static final int MAX_VALUE_BITS = 8;
  /** Entries from which a class lookup table pays for itself, and its size. */
  private static final int CLASS_TABLE_MIN_ENTRIES = 8192;
  private static final int CLASS_TABLE_SIZE = 4096;
  /** The largest gradient a compressor takes: the longest array every JVM can allocate. */
  public static final int MAX_DIMENSION = Integer.MAX_VALUE - 8;

  private final CompressionConfig config;
  private final int dimension;
  private final CompressionKernels kernels;
  private final SketchKernels sketchKernels;
  private final TopKSelector selector;
  private final int sketchDimension;
  private float[] buckets;
  private float[] decodedBuckets;
  private long[] keyWords;
  private final long seedFingerprint;
  private final int csRows;
  private final int csColumns;
  private final int csTopK;
  private float[][] csTable;
  private float[] csFlat;
  private float[][] csScratch;
  private float[] csTiles;
  /** The last count sketch table whose round 2 ({@link #values}) has not run. */
  private TernaryCompressedGradient pending;
  private final float[] residual;
  private float[] scratch;
  private int[] candidates = new int[1024];
  private float[] vals = new float[1024];
  private byte[] classes = new byte[1024];
  private byte[] bitScratch = new byte[1024];
  private long step;
  private long originalBytes;
  private long wireBytes;
  private int lastWire;
  private int lastNonZeros;
  /** The thread inside a stateful method, or null; claimed and released with CAS / release store. */
  @SuppressWarnings("unused")
  private volatile Thread user;

  private static final VarHandle USER;

  static {
    try {
      USER = MethodHandles.lookup().findVarHandle(GradientCompressor.class, "user", Thread.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /**
   * Claims the compressor for the calling thread; returns false for a nested call by the thread
   * that already holds it.
   */
  private boolean enter(String method) {
    Thread me = Thread.currentThread();
    Thread other = (Thread) USER.compareAndExchange(this, (Thread) null, me);
    if (other == null) {
      return true;
    }
    if (other == me) {
      return false;
    }
    throw new ConcurrentModificationException("GradientCompressor." + method + " called on thread '" + me.getName()
        + "' while thread '" + other.getName() + "' is using this compressor; it is not thread-safe: use one per worker "
        + "(GradientCompressor.forWorkers) or order the calls");
  }

  private void exit(boolean claimed) {
    if (claimed) {
      USER.setRelease(this, (Thread) null);
    }
  }

  /**
   * Creates a compressor on the process-wide kernel path.
   *
   * @param config the settings
   * @param dimension the number of f32 values in each gradient, in [1, {@link #MAX_DIMENSION}]
   * @throws ShapeException if the dimension is out of range
   * @throws ConfigException if the heap cannot hold the residual
   */
  public GradientCompressor(CompressionConfig config, int dimension) {
    this(config, dimension, Vectorization.get());
  }

  /**
   * Creates a compressor on a given kernel path (both paths give identical bytes).
   *
   * @param config the settings
   * @param dimension the number of f32 values in each gradient, at least 1
   * @param vectorization the kernel path
   * @throws ShapeException if the dimension is not positive
   */
  public GradientCompressor(CompressionConfig config, int dimension, Vectorization vectorization) {
    this.config = Objects.requireNonNull(config, "config");
    if (dimension < 1 || dimension > MAX_DIMENSION) {
      throw new ShapeException("gradient dimension must be in [1, " + MAX_DIMENSION + "], got " + dimension
          + (dimension > MAX_DIMENSION ? " (split the parameters into several compressors)" : ""));
    }
    this.dimension = dimension;
    this.kernels = vectorization.select(CompressionKernels.class, ScalarCompressionKernels::new, MethodHandles.lookup(), "PanamaCompressionKernels");
    this.sketchKernels = vectorization.select(SketchKernels.class, ScalarSketchKernels::new, MethodHandles.lookup(), "PanamaSketchKernels");
    this.selector = new TopKSelector(kernels);
    this.seedFingerprint = fingerprint(config.seed());
    this.residual = allocate(dimension);
    this.sketchDimension = VsaSketch.dimension(dimension, config.compressionRatio());
    this.csRows = config.sketchRows();
    this.csColumns = GradientWireFormat.countSketchColumns(dimension, config.compressionRatio(), csRows);
    this.csTopK = GradientWireFormat.countSketchTopK(dimension, csColumns);
  }

  private static float[] allocate(int dimension) {
    try {
      return new float[dimension];
    } catch (OutOfMemoryError e) {
      // The one large allocation of the constructor: say what it needed rather than just die.
      throw new ConfigException("a gradient compressor for " + dimension + " values needs " + 4L * dimension
          + " bytes for its residual (and as much again for a gradient), more than the heap has free (max "
          + Runtime.getRuntime().maxMemory() + " bytes); raise -Xmx or split the parameters into several compressors", e);
    }
  }

  /**
   * One compressor per worker, all with the same settings.
   *
   * @param config the settings
   * @param dimension the gradient size
   * @param workers the number of workers, at least 1
   * @return the compressors, index = worker
   */
  public static List<GradientCompressor> forWorkers(CompressionConfig config, int dimension, int workers) {
    if (workers < 1) {
      throw new ShapeException("need at least one worker, got " + workers);
    }
    List<GradientCompressor> list = new ArrayList<>(workers);
    for (int w = 0; w < workers; w++) {
      list.add(new GradientCompressor(config, dimension));
    }
    return List.copyOf(list);
  }

  /** The fingerprint written into messages for a seed: the first SplitMix64 output. */
  static long fingerprint(long seed) {
    return GradientWireFormat.seedFingerprint(seed);
  }

  /**
   * Compresses a gradient (not modified).
   *
   * @param gradient exactly {@link #dimension()} values
   * @return the message
   * @throws ShapeException if the length is wrong or a value is NaN or infinite (the residual is
   *     then left unchanged)
   */
  public TernaryCompressedGradient compress(float[] gradient) {
    boolean claimed = enter("compress");
    try {
      return compressArray(gradient);
    } finally {
      exit(claimed);
    }
  }

  private TernaryCompressedGradient compressArray(float[] gradient) {
    Objects.requireNonNull(gradient, "gradient");
    if (gradient.length != dimension) {
      throw new ShapeException("gradient has " + gradient.length + " values, this compressor was made for " + dimension);
    }
    return encode(gradient);
  }

  /**
   * Compresses the {@code remaining()} values of a buffer from its position (not moved).
   *
   * @param gradient exactly {@link #dimension()} remaining values
   * @return the message
   * @throws ShapeException if the size is wrong or a value is NaN or infinite
   */
  public TernaryCompressedGradient compress(FloatBuffer gradient) {
    boolean claimed = enter("compress");
    try {
      return compressBuffer(gradient);
    } finally {
      exit(claimed);
    }
  }

  private TernaryCompressedGradient compressBuffer(FloatBuffer gradient) {
    Objects.requireNonNull(gradient, "gradient");
    if (gradient.remaining() != dimension) {
      throw new ShapeException("gradient buffer has " + gradient.remaining() + " values remaining, this compressor was made for " + dimension);
    }
    float[] s = scratch();
    gradient.get(gradient.position(), s, 0, dimension);
    return encode(s);
  }

  /**
   * Compresses f32 values in native byte order held in a memory segment.
   *
   * @param gradient a segment of exactly {@code 4 * dimension()} bytes
   * @return the message
   * @throws ShapeException if the size is wrong or a value is NaN or infinite
   */
  public TernaryCompressedGradient compress(MemorySegment gradient) {
    boolean claimed = enter("compress");
    try {
      return compressSegment(gradient);
    } finally {
      exit(claimed);
    }
  }

  private TernaryCompressedGradient compressSegment(MemorySegment gradient) {
    Objects.requireNonNull(gradient, "gradient");
    if (gradient.byteSize() != 4L * dimension) {
      throw new ShapeException("gradient segment has " + gradient.byteSize() + " bytes, expected " + (4L * dimension)
          + " (" + dimension + " f32 values)");
    }
    float[] s = scratch();
    MemorySegment.copy(gradient, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, s, 0, dimension);
    return encode(s);
  }

  private float[] scratch() {
    if (scratch == null) {
      scratch = new float[dimension];
    }
    return scratch;
  }

  private TernaryCompressedGradient encode(float[] g) {
    final int n = dimension;
    double sumSq = kernels.sumOfSquares(g, n);
    if (!Double.isFinite(sumSq)) {
      throw new ShapeException("gradient holds NaN or infinite values (step " + step + "); skip the step instead "
          + "(see dev.aphelion.tritter.train.LossScaler) rather than compressing it");
    }
    float c = 1f;
    if (config.clipNorm() > 0 && Math.sqrt(sumSq) > config.clipNorm()) {
      c = (float) (config.clipNorm() / Math.sqrt(sumSq));
    }
    float[] e = residual;
    if (pending != null) {
      // without round 2 the residual would keep everything and grow without bound
      throw new IllegalStateException("count sketch step " + pending.step() + " is still waiting for its round 2: call "
          + "select on the summed tables and values with the result before compressing step " + step
          + " (MessageExchange does both)");
    }
    if (!config.errorFeedback()) {
      Arrays.fill(e, 0f);
    }
    // every encoding adds c * g to the residual in its first pass over it
    byte[] wire = switch (config.encoding()) {
      case VSA_SKETCH -> encodeSketch(e, g, c);
      case COUNT_SKETCH -> encodeCountSketch(e, g, c);
      case HEAVY_HITTERS -> encodeHeavyHitters(e, g, c);
    };
    originalBytes += 4L * n;
    wireBytes += wire.length;
    lastWire = wire.length;
    step++;
    TernaryCompressedGradient message = TernaryCompressedGradient.parse(wire);
    if (config.encoding() == GradientEncoding.COUNT_SKETCH && config.errorFeedback()) {
      pending = message;
    }
    return message;
  }

  private float[] decodedScratch;

  private float[] scratchDecoded() {
    if (decodedScratch == null) {
      decodedScratch = new float[dimension];
    }
    return decodedScratch;
  }

  private float[][] table(float[][] t, int rows, int c) {
    if (t == null || t.length < rows || t[0].length < c) {
      t = new float[Math.max(rows, csRows)][Math.max(c, csColumns)];
    }
    return t;
  }

  private byte[] encodeCountSketch(float[] e, float[] g, float c) {
    csTable = table(csTable, csRows, csColumns);
    long[] words = keyWords(csColumns);
    CountSketch.sketch(sketchKernels, e, g, c, dimension, csRows, csColumns, config.seed(), step, csTable, words);
    lastNonZeros = csTopK;
    return CountSketch.message(csTable, dimension, csRows, csColumns, csTopK, step, seedFingerprint);
  }

  private long[] keyWords(int c) {
    if (keyWords == null || keyWords.length < (c + 63) / 64 + 1) {
      keyWords = new long[(c + 63) / 64 + 1];
    }
    return keyWords;
  }

  /** Decodes a count sketch message of this job into {@code out[0..dimension)}. */
  private void decodeCountSketch(TernaryCompressedGradient g, float[] out) {
    int rows = g.sketchRows(), c = g.sketchDimension();
    csTable = table(csTable, rows, c);
    CountSketch.readTable(g, csTable);
    decodeTable(csTable, rows, c, g.nonZeroCount(), g.step(), out);
  }

  private float[] flat(int len) {
    if (csFlat == null || csFlat.length < len) {
      csFlat = new float[len];
    }
    return csFlat;
  }

  private void decodeTable(float[][] table, int rows, int c, int k, long s, float[] out) {
    tiles(rows, c);
    CountSketch.decode(sketchKernels, selector, table, dimension, rows, c, k, config.seed(), s, out, csTiles, keyWords(c));
  }

  private byte[] encodeSketch(float[] e, float[] g, float c) {
    int n = dimension, m = sketchDimension;
    sketchScratch(m);
    byte[] out = VsaSketch.encode(sketchKernels, e, g, c, n, m, config.seed(), step, seedFingerprint, buckets, keyWords);
    float scale = java.nio.ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).getFloat(32);
    lastNonZeros = VsaSketch.countNonZero(out, VsaSketch.HEADER_BYTES, 0, m);
    if (config.errorFeedback()) {
      // e -= decode(message): keep exactly what the receiver will not see
      VsaSketch.unbindTritsAll(sketchKernels, out, VsaSketch.HEADER_BYTES, m, scale, n, config.seed(), step, keyWords, e,
          SketchKernels.SUBTRACT);
    }
    return out;
  }

  /** Heavy hitters of {@code e + c * g}, which it leaves in {@code e} before the residual update. */
  private byte[] encodeHeavyHitters(float[] e, float[] g, float c) {
    final int n = dimension;
    long budget = (long) Math.floor(config.compressionRatio() * 4.0 * n);
    float[] sample = sample(e, g, c);
    int nonZeroSample = 0;
    for (float v : sample) {
      if (v > 0) {
        nonZeroSample++;
      }
    }
    // choose value bits and k
    int bestVb = 1, bestK = 0;
    double bestErr = Double.POSITIVE_INFINITY;
    for (int vb = 1; vb <= MAX_VALUE_BITS; vb++) {
      long payloadBits = 8L * (budget - GradientWireFormat.HEADER_BYTES - 4L * (1 << (vb - 1)) - GradientWireFormat.CRC_BYTES);
      int k = entriesFitting(payloadBits, vb, n);
      double err = estimateError(sample, nonZeroSample, k, n, vb);
      if (err < bestErr) {
        bestErr = err;
        bestVb = vb;
        bestK = k;
      }
    }
    int vb = bestVb;
    int groups = 1 << (vb - 1);
    long payloadBits = 8L * (budget - GradientWireFormat.HEADER_BYTES - 4L * groups - GradientWireFormat.CRC_BYTES);
    int k = Math.max(1, bestK); // always move at least one coordinate, even past a tiny budget

    // candidates above a sampled threshold a little below the k-th magnitude
    int m = (int) Math.min(sample.length, Math.ceil(1.25 * k * (double) sample.length / n) + 4);
    float low = m >= sample.length ? 0f : sample[sample.length - 1 - m];
    int total = kernels.addScaledCollectAbove(e, g, c, n, low, candidates, vals);
    if (total > candidates.length) {
      candidates = new int[Math.max(total, candidates.length * 2)];
      vals = new float[candidates.length];
      total = kernels.collectAbove(e, n, low, candidates, vals);
    }
    int selected = select(candidates, vals, total, k);
    int rp = riceParam(n, selected);
    float[] magRange = new float[2];
    long bits = payloadBitsOf(candidates, vals, selected, rp, vb, magRange);
    while (bits > payloadBits && selected > 1) {
      int target = Math.max(1, (int) Math.min(selected - 1, (long) (selected * (payloadBits / (double) bits) * 0.98)));
      selected = select(candidates, vals, selected, target);
      rp = riceParam(n, selected);
      bits = payloadBitsOf(candidates, vals, selected, rp, vb, magRange);
    }

    // magnitude classes, log-spaced between the smallest and largest selected magnitude
    float[] vl = vals; // vl[j] == e[candidates[j]] (select kept them in step)
    float minMag = magRange[0], maxMag = magRange[1];
    float[] bounds = new float[groups - 1];
    for (int b = 1; b < groups; b++) {
      bounds[b - 1] = (float) (minMag * Math.pow(maxMag / (double) minMag, b / (double) groups));
    }
    int[] boundBits = classBoundBits(bounds);
    // class lookup table over the magnitude's raw bits (which order like the magnitudes): entry t
    // holds the class of the lowest magnitude of its bit range, a lower bound of the class of every
    // magnitude in the range, raised below by comparing with the next bounds (rarely more than
    // once, as few ranges straddle a bound); cheaper than a 7-step search per entry
    int minBits = Float.floatToRawIntBits(minMag);
    int[] table = null;
    int shift = 0;
    if (groups > 1 && selected >= CLASS_TABLE_MIN_ENTRIES) {
      int range = Float.floatToRawIntBits(maxMag) - minBits;
      while ((range >>> shift) >= CLASS_TABLE_SIZE) {
        shift++;
      }
      table = new int[(range >>> shift) + 1];
      for (int t = 0; t < table.length; t++) {
        table[t] = classOf(minBits + (t << shift), boundBits, groups);
      }
    }

    int payloadBytes = (int) ((bits + 7) >>> 3);
    int size = GradientWireFormat.HEADER_BYTES + 4 * groups + payloadBytes + GradientWireFormat.CRC_BYTES;
    byte[] out = new byte[size];
    // one pass: class of each entry (kept for the residual update), class sums, and the bit stream
    // (the bits do not depend on the scales, which are only written into the header afterwards)
    if (classes.length < selected) {
      classes = new byte[Math.max(selected, classes.length * 2)];
    }
    byte[] cl = classes;
    double[] sums = new double[groups];
    int[] counts = new int[groups];
    // the writer stores whole words ahead of its position (every byte it has not finished is
    // rewritten in full, so stale scratch contents never leak), so it writes into a scratch array
    // with slack and the payload is copied into the message afterwards
    if (bitScratch.length < payloadBytes + 16) {
      bitScratch = new byte[Math.max(payloadBytes + 16, bitScratch.length * 2)];
    }
    BitStream.Writer w = new BitStream.Writer(bitScratch, 0);
    int prev = -1;
    long lowMask = (1L << rp) - 1;
    int tailBits = rp + vb;
    for (int j = 0; j < selected; j++) {
      int i = candidates[j];
      long gap = (long) i - prev - 1;
      prev = i;
      float v = vl[j];
      float a = Math.abs(v);
      int ab = Float.floatToRawIntBits(a);
      int cls;
      if (table != null) {
        cls = table[(ab - minBits) >>> shift];
        while (cls < groups - 1 && ab >= boundBits[cls]) {
          cls++;
        }
      } else {
        cls = classOf(ab, boundBits, groups);
      }
      long negative = v < 0 ? 1L : 0L;
      cl[j] = (byte) (cls | (negative << 7)); // index into the signed scale table below
      sums[cls] += a;
      counts[cls]++;
      // unary quotient, then low gap bits, sign and class: at most 30 + 8 bits of tail
      w.writeRice(gap >>> rp, (gap & lowMask) | ((negative | ((long) cls << 1)) << rp), tailBits);
    }
    float[] scales = new float[groups];
    for (int b = 0; b < groups; b++) {
      scales[b] = counts[b] == 0 ? 0f : (float) (sums[b] / counts[b]);
    }
    ByteBuffer h = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    GradientWireFormat.writeCommonHeader(out, GradientEncoding.HEAVY_HITTERS, n, step, seedFingerprint);
    out[GradientWireFormat.VALUE_BITS_OFFSET] = (byte) vb;
    out[GradientWireFormat.RICE_PARAMETER_OFFSET] = (byte) rp;
    h.putInt(GradientWireFormat.ENTRY_COUNT_OFFSET, selected);
    h.putInt(GradientWireFormat.PAYLOAD_BYTES_OFFSET, payloadBytes);
    for (int b = 0; b < groups; b++) {
      h.putFloat(GradientWireFormat.HEADER_BYTES + 4 * b, scales[b]);
    }
    // error feedback: keep exactly what the receiver will not see (e[i] - ±scale, sign as sent)
    float[] signed = new float[256];
    for (int b = 0; b < groups; b++) {
      signed[b] = scales[b];
      signed[128 + b] = -scales[b];
    }
    for (int j = 0; j < selected; j++) {
      int i = candidates[j];
      e[i] = vl[j] - signed[cl[j] & 0xFF];
    }
    int written = w.finish();
    if (written != payloadBytes) {
      throw new IllegalStateException("heavy-hitter payload is " + written + " bytes, sized for " + payloadBytes);
    }
    System.arraycopy(bitScratch, 0, out, GradientWireFormat.HEADER_BYTES + 4 * groups, payloadBytes);
    GradientWireFormat.seal(out);
    lastNonZeros = selected;
    return out;
  }

  /**
   * The class bounds as integers that order like the floats ({@link Float#floatToIntBits}: a NaN
   * bound, from a zero smallest magnitude, becomes the canonical positive NaN and so compares
   * above every magnitude, as {@code a >= NaN} is false).
   */
  static int[] classBoundBits(float[] bounds) {
    int[] b = new int[bounds.length];
    for (int i = 0; i < b.length; i++) {
      b[i] = Float.floatToIntBits(bounds[i]);
    }
    return b;
  }

  /**
   * The number of bounds that are {@code <= a}, branch-free: {@code aBits} are the raw bits of a
   * non-negative magnitude, {@code boundBits} the {@code groups - 1} ascending bounds from {@link
   * #classBoundBits}, {@code groups} a power of two. Equals {@link #classOf(float, float[])}.
   */
  static int classOf(int aBits, int[] boundBits, int groups) {
    int lo = 0;
    for (int step = groups >>> 1; step > 0; step >>>= 1) {
      // a >= bound exactly when bound - a - 1 < 0 (both in [0, 0x7fc00000], no overflow)
      lo += step & ((boundBits[lo + step - 1] - aBits - 1) >> 31);
    }
    return lo;
  }

  /** The number of bounds that are {@code <= a} (bounds ascending). */
  static int classOf(float a, float[] bounds) {
    int lo = 0, hi = bounds.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (a >= bounds[mid]) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /**
   * Sorted magnitudes of a seeded sample of {@code e + c * g} (all of it when it is small), each
   * computed as {@link CompressionKernels#addScaled} will compute it.
   */
  private float[] sample(float[] e, float[] g, float c) {
    int n = dimension;
    float[] s;
    if (n <= SAMPLE) {
      s = new float[n];
      for (int i = 0; i < n; i++) {
        s[i] = Math.abs(e[i] + c * g[i]);
      }
    } else {
      s = new float[SAMPLE];
      SplitMix64 rng = new SplitMix64(config.seed() ^ SplitMix64.mix64(step + 1));
      for (int i = 0; i < SAMPLE; i++) {
        int j = rng.nextInt(n);
        s[i] = Math.abs(e[j] + c * g[j]);
      }
    }
    Arrays.sort(s);
    return s;
  }

  /** The largest entry count whose expected Rice-coded size fits {@code payloadBits}. */
  static int entriesFitting(long payloadBits, int vb, int n) {
    if (payloadBits <= 0) {
      return 0;
    }
    double k = Math.min(n, payloadBits / (vb + 2.0));
    for (int it = 0; it < 12; it++) {
      int rp = riceParam(n, (int) Math.max(1, k));
      double meanGap = n / Math.max(1.0, k) - 1; // gaps count the skipped coordinates
      double perEntry = vb + rp + 1 + meanGap / (1L << rp);
      k = Math.min(n, payloadBits / perEntry);
    }
    return (int) Math.floor(k);
  }

  /** Rice parameter near-optimal for geometric gaps of mean {@code n/k}. */
  static int riceParam(int n, int k) {
    if (k <= 0) {
      return 0;
    }
    double mean = (double) n / k;
    int rp = (int) Math.floor(Math.log(mean * Math.log(2)) / Math.log(2));
    return Math.max(0, Math.min(30, rp));
  }

  /** Payload bits of the first {@code count} entries; their smallest and largest magnitude into {@code range}. */
  private static long payloadBitsOf(int[] idx, float[] vl, int count, int rp, int vb, float[] range) {
    long bits = (long) count * (1 + rp + vb);
    int prev = -1;
    float minMag = Float.POSITIVE_INFINITY, maxMag = 0f;
    for (int j = 0; j < count; j++) {
      bits += ((long) idx[j] - prev - 1) >>> rp;
      prev = idx[j];
      float a = Math.abs(vl[j]);
      minMag = Math.min(minMag, a);
      maxMag = Math.max(maxMag, a);
    }
    range[0] = minMag;
    range[1] = maxMag;
    return bits;
  }

  /** Sum of squared errors on the sample if the top {@code k/n} fraction is sent with {@code vb} value bits. */
  private static double estimateError(float[] sorted, int nonZero, int k, int n, int vb) {
    int s = sorted.length;
    int m = (int) Math.min(nonZero, Math.round(Math.max(1, k) * (double) s / n));
    double err = 0;
    for (int i = 0; i < s - m; i++) {
      err += (double) sorted[i] * sorted[i];
    }
    if (m == 0) {
      return err;
    }
    int groups = 1 << (vb - 1);
    float lo = sorted[s - m], hi = sorted[s - 1];
    float[] bounds = new float[groups - 1];
    for (int b = 1; b < groups; b++) {
      bounds[b - 1] = (float) (lo * Math.pow(hi / (double) lo, b / (double) groups));
    }
    double[] sum = new double[groups], sumSq = new double[groups];
    int[] cnt = new int[groups];
    for (int i = s - m; i < s; i++) {
      int c = classOf(sorted[i], bounds);
      sum[c] += sorted[i];
      sumSq[c] += (double) sorted[i] * sorted[i];
      cnt[c]++;
    }
    for (int c = 0; c < groups; c++) {
      if (cnt[c] > 0) {
        err += sumSq[c] - sum[c] * sum[c] / cnt[c];
      }
    }
    return err;
  }

  /**
   * Keeps the k entries of largest magnitude among {@code idx[0..count)} / {@code vl[0..count)}
   * (ties at the k-th magnitude resolved in index order), compacting both arrays in place and in
   * order.
   *
   * @return the number kept, {@code min(count, k)}
   */
  private int select(int[] idx, float[] vl, int count, int k) {
    if (count <= k) {
      return count;
    }
    long tauAndTies = MagnitudeSelection.kthLargestAndTies(kernels, vl, count, k);
    int tauBits = (int) tauAndTies;
    int ties = (int) (tauAndTies >>> 32);
    int out = 0;
    // branch-free compaction: most candidates are kept, at random, so a branch would mispredict
    for (int j = 0; j < count; j++) {
      float v = vl[j];
      int a = Float.floatToRawIntBits(v) & 0x7FFFFFFF;
      int tie = (a == tauBits ? 1 : 0) & (ties > 0 ? 1 : 0);
      ties -= tie;
      idx[out] = idx[j];
      vl[out] = v;
      out += (a > tauBits ? 1 : 0) | tie;
    }
    return out;
  }




  /**
   * Parses a message and checks that it belongs to this job and shape.
   *
   * @param wire the bytes received
   * @return the gradient
   * @throws SerializationException if the bytes are truncated or corrupt, or were made with another seed
   * @throws ShapeException if the dimension differs from this compressor's
   */
  public TernaryCompressedGradient read(byte[] wire) {
    TernaryCompressedGradient g = TernaryCompressedGradient.fromBytes(wire);
    check(g);
    return g;
  }

  private void check(TernaryCompressedGradient g) {
    Objects.requireNonNull(g, "gradient");
    if (g.seedFingerprint() != seedFingerprint) {
      throw new SerializationException("compressed gradient was made with another seed (fingerprint 0x"
          + Long.toHexString(g.seedFingerprint()) + ", this job's is 0x" + Long.toHexString(seedFingerprint) + ")");
    }
    if (g.dimension() != dimension) {
      throw new ShapeException("compressed gradient has dimension " + g.dimension() + ", this compressor's is " + dimension);
    }
  }

  /**
   * Decodes one message.
   *
   * @param gradient a message of this job
   * @return the decoded gradient, {@link #dimension()} values
   * @throws SerializationException if it was made with another seed or its bit stream is corrupt
   * @throws ShapeException if its dimension differs
   */
  public float[] decompress(TernaryCompressedGradient gradient) {
    float[] out = new float[dimension];
    decompressInto(gradient, out);
    return out;
  }

  /**
   * Decodes one message into {@code out}, overwriting its first {@link #dimension()} values
   * (contents unspecified if an exception is thrown).
   *
   * @param gradient a message of this job
   * @param out at least {@link #dimension()} values
   */
  public void decompressInto(TernaryCompressedGradient gradient, float[] out) {
    boolean claimed = enter("decompressInto");
    try {
      decompressIntoUnguarded(gradient, out);
    } finally {
      exit(claimed);
    }
  }

  private void decompressIntoUnguarded(TernaryCompressedGradient gradient, float[] out) {
    check(gradient);
    if (out.length < dimension) {
      throw new ShapeException("output holds " + out.length + " values, the gradient has dimension " + dimension);
    }
    if (gradient.encoding() == GradientEncoding.COUNT_SKETCH) {
      requireTable(gradient, "decompress (a values message decodes with scatter)");
      decodeCountSketch(gradient, out);
    } else if (gradient.encoding() == GradientEncoding.VSA_SKETCH) {
      int m = gradient.sketchDimension();
      sketchScratch(m);
      VsaSketch.unbindTritsAll(sketchKernels, gradient.rawBytes(), gradient.payloadOffset(), m, gradient.scaleOfSketch(), dimension,
          config.seed(), gradient.step(), keyWords, out, SketchKernels.SET);
    } else {
      gradient.decodeInto(out, 1f, false);
    }
  }

  /** Key words and the hypervector for m buckets, and a scratch array of at least m buckets. */
  private float[] sketchScratchAndBuckets(int m) {
    sketchScratch(m);
    if (decodedBuckets == null || decodedBuckets.length < m) {
      decodedBuckets = new float[Math.max(m, sketchDimension)];
    }
    return decodedBuckets;
  }

  /** Key words and the hypervector for m buckets. */
  private void sketchScratch(int m) {
    if (keyWords == null || keyWords.length < (m + 63) / 64 + 1) {
      keyWords = new long[(Math.max(m, sketchDimension) + 63) / 64 + 1];
    }
    if (buckets == null || buckets.length < m) {
      buckets = new float[Math.max(m, sketchDimension)];
    }
  }

  /**
   * The mean of the workers' decoded gradients for one step: what a data-parallel step applies.
   *
   * @param gradients one message per worker, same seed, dimension and step
   * @return the mean, {@link #dimension()} values
   * @throws SerializationException on a foreign seed or corrupt stream
   * @throws ShapeException on a dimension mismatch, an empty list or mixed steps
   */
  public float[] aggregate(List<TernaryCompressedGradient> gradients) {
    float[] out = new float[dimension];
    aggregateInto(gradients, out);
    return out;
  }

  /**
   * Writes the mean of the decoded gradients into {@code out}; see {@link #aggregate}.
   *
   * @param gradients one message per worker
   * @param out at least {@link #dimension()} values, overwritten
   */
  public void aggregateInto(List<TernaryCompressedGradient> gradients, float[] out) {
    boolean claimed = enter("aggregateInto");
    try {
      aggregateIntoUnguarded(gradients, out);
    } finally {
      exit(claimed);
    }
  }

  private void aggregateIntoUnguarded(List<TernaryCompressedGradient> gradients, float[] out) {
    Objects.requireNonNull(gradients, "gradients");
    if (gradients.isEmpty()) {
      throw new ShapeException("aggregate needs at least one compressed gradient");
    }
    if (out.length < dimension) {
      throw new ShapeException("output holds " + out.length + " values, the gradient has dimension " + dimension);
    }
    TernaryCompressedGradient first = gradients.get(0);
    long s = first.step();
    for (TernaryCompressedGradient g : gradients) {
      check(g);
      if (g.step() != s) {
        throw new ShapeException("aggregate mixes steps " + s + " and " + g.step() + "; combine one synchronous step at a time");
      }
      if (g.encoding() != first.encoding() || g.sketchDimension() != first.sketchDimension()
          || g.sketchRows() != first.sketchRows() || g.nonZeroCount() != first.nonZeroCount() && g.encoding() == GradientEncoding.COUNT_SKETCH) {
        throw new ShapeException("aggregate mixes encodings or sketch sizes (" + first + " and " + g
            + "); all workers of a job must use the same CompressionConfig");
      }
    }
    float w = 1f / gradients.size();
    if (first.encoding() == GradientEncoding.COUNT_SKETCH) {
      requireTable(first, "aggregate (values messages decode with scatter)");
      float[] weights = new float[gradients.size()];
      Arrays.fill(weights, w);
      int rows = first.sketchRows(), c = first.sketchDimension();
      float[][] acc = table(csTable, rows, c);
      csTable = acc;
      csScratch = table(csScratch, rows, c);
      CountSketch.sumTables(gradients, weights, acc, csScratch);
      decodeTable(acc, rows, c, first.nonZeroCount(), s, out);
      return;
    }
    if (first.encoding() == GradientEncoding.VSA_SKETCH) {
      // every worker used the same keys and rotations (same seed and step), so unbinding is linear
      // in the bucket values: average the decoded buckets, then unbind once
      int m = first.sketchDimension();
      float[] d = sketchScratchAndBuckets(m);
      float[] acc = buckets;
      Arrays.fill(acc, 0, m, 0f);
      for (TernaryCompressedGradient g : gradients) {
        sketchKernels.expand(g.rawBytes(), g.payloadOffset(), m, w * g.scaleOfSketch(), d);
        for (int u = 0; u < m; u++) {
          acc[u] = acc[u] + d[u];
        }
      }
      VsaSketch.unbindAll(sketchKernels, acc, dimension, m, config.seed(), s, keyWords, out, SketchKernels.SET);
      return;
    }
    Arrays.fill(out, 0, dimension, 0f);
    for (TernaryCompressedGradient g : gradients) {
      g.decodeInto(out, w, true);
    }
  }

  /**
   * Sums count sketch messages of one step, weighted, into one message of the same shape: the
   * sketch of the weighted sum of the workers' residuals, which decodes ({@link #decompress}) to
   * the update of the step. Each bucket is {@code 0f}, then {@code acc + weights[w] * bucket_w}
   * (a rounded product, then a rounded sum) for the messages in list order, so every node that
   * sums the same list gets the same bytes; the message size does not grow with the list.
   *
   * @param messages count sketch messages of this job, same step and shape (not empty)
   * @param weights one weight per message, finite (for a mean: example counts over their sum)
   * @return the summed message
   * @throws ShapeException if the list is empty, the weights do not match it, or the messages mix
   *     encodings, shapes or steps
   * @throws SerializationException if a message was made with another seed
   */
  public TernaryCompressedGradient combine(List<TernaryCompressedGradient> messages, float[] weights) {
    boolean claimed = enter("combine");
    try {
      return combineUnguarded(messages, weights);
    } finally {
      exit(claimed);
    }
  }

  private TernaryCompressedGradient combineUnguarded(List<TernaryCompressedGradient> messages, float[] weights) {
    Objects.requireNonNull(messages, "messages");
    Objects.requireNonNull(weights, "weights");
    if (messages.isEmpty()) {
      throw new ShapeException("combine needs at least one count sketch message");
    }
    if (weights.length != messages.size()) {
      throw new ShapeException("combine got " + messages.size() + " messages and " + weights.length + " weights");
    }
    TernaryCompressedGradient first = messages.get(0);
    for (int i = 0; i < messages.size(); i++) {
      TernaryCompressedGradient g = messages.get(i);
      check(g);
      if (g.encoding() != GradientEncoding.COUNT_SKETCH) {
        throw new ShapeException("combine sums count sketch messages only (linear encodings), message " + i + " is " + g.encoding()
            + "; decode and average the others with aggregate");
      }
      if (g.step() != first.step() || g.sketchRows() != first.sketchRows() || g.sketchDimension() != first.sketchDimension()
          || g.nonZeroCount() != first.nonZeroCount() || g.isSketchValues() != first.isSketchValues()) {
        throw new ShapeException("combine mixes messages " + first + " and " + g
            + "; sum one step of one job (same CompressionConfig) at a time");
      }
      if (!Float.isFinite(weights[i])) {
        throw new ShapeException("weight " + i + " is " + weights[i] + ", expected a finite value");
      }
    }
    if (first.isSketchValues()) {
      return TernaryCompressedGradient.parse(CountSketch.sumValues(messages, weights, flat(first.nonZeroCount()), seedFingerprint));
    }
    int rows = first.sketchRows(), c = first.sketchDimension();
    float[][] acc = table(csTable, rows, c);
    csTable = acc;
    csScratch = table(csScratch, rows, c);
    CountSketch.sumTables(messages, weights, acc, csScratch);
    return TernaryCompressedGradient.parse(CountSketch.message(acc, dimension, rows, c, first.nonZeroCount(), first.step(),
        seedFingerprint));
  }

  /**
   * Round 2 of a count sketch step, part 1: the k coordinates (ascending) to send exactly, chosen
   * from the summed table of round 1 ({@link #combine} of every worker's {@link #compress}
   * message): the k largest magnitudes of the per-coordinate median over rows, ties in index
   * order. Every worker that selects from the same summed table gets the same coordinates.
   *
   * @param summedTable a count sketch table message of this job
   * @return the k coordinates, ascending
   * @throws ShapeException if the message is not a count sketch table
   */
  public int[] select(TernaryCompressedGradient summedTable) {
    boolean claimed = enter("select");
    try {
      check(summedTable);
      requireTable(summedTable, "select");
      float[] d = scratchDecoded();
      int rows = summedTable.sketchRows(), c = summedTable.sketchDimension();
      csTable = table(csTable, rows, c);
      CountSketch.readTable(summedTable, csTable);
      tiles(rows, c);
      CountSketch.estimate(sketchKernels, csTable, dimension, rows, c, config.seed(), summedTable.step(), d, csTiles, keyWords(c));
      return selector.topK(d, dimension, summedTable.nonZeroCount(), CountSketch.selectionSeed(config.seed(), summedTable.step()));
    } finally {
      exit(claimed);
    }
  }

  /**
   * Round 2 of a count sketch step, part 2: this worker's exact residual at the selected
   * coordinates, as a values message, and those residual entries set to 0 (error feedback: they
   * are sent exactly; everything else stays in the residual). Values messages of one step sum
   * with {@link #combine}; {@link #scatter} decodes the sum.
   *
   * @param table this worker's table message of the step (from {@link #compress})
   * @param coordinates {@link #select} of the summed table, ascending, within the dimension
   * @return the values message
   * @throws ShapeException if the coordinates are out of range or not ascending, or the table is
   *     not this compressor's latest message
   */
  public TernaryCompressedGradient values(TernaryCompressedGradient table, int[] coordinates) {
    boolean claimed = enter("values");
    try {
      check(table);
      requireTable(table, "values");
      if (table.step() != step - 1) {
        throw new ShapeException("values for step " + table.step() + " requested after compressing step " + (step - 1)
            + "; run round 2 right after round 1 of the same step");
      }
      checkCoordinates(coordinates, table.nonZeroCount());
      pending = null;
      return TernaryCompressedGradient.parse(CountSketch.values(residual, coordinates, table, seedFingerprint));
    } finally {
      exit(claimed);
    }
  }

  /**
   * Decodes a (summed) values message: {@code out[coordinates[j]] = value j}, every other entry of
   * {@code out[0..dimension)} 0.
   *
   * @param values a count sketch values message of this job
   * @param coordinates the coordinates it was made for ({@link #select})
   * @param out at least {@link #dimension()} values
   * @throws ShapeException if the message is not a values message of {@code coordinates.length}
   *     values, or the coordinates are out of range
   */
  public void scatter(TernaryCompressedGradient values, int[] coordinates, float[] out) {
    boolean claimed = enter("scatter");
    try {
      check(values);
      if (!values.isSketchValues()) {
        throw new ShapeException("scatter decodes count sketch values messages, got " + values);
      }
      checkCoordinates(coordinates, values.nonZeroCount());
      if (out.length < dimension) {
        throw new ShapeException("output holds " + out.length + " values, the gradient has dimension " + dimension);
      }
      Arrays.fill(out, 0, dimension, 0f);
      ByteBuffer b = ByteBuffer.wrap(values.rawBytes()).order(ByteOrder.LITTLE_ENDIAN);
      float scale = values.isSummedValues() ? 0f : b.getFloat(GradientWireFormat.HEADER_BYTES);
      byte[] raw = values.rawBytes();
      if (values.isSummedValues()) {
        for (int j = 0; j < coordinates.length; j++) {
          out[coordinates[j]] = b.getFloat(GradientWireFormat.HEADER_BYTES + 4 * j);
        }
      } else {
        // the int8 kind read directly: CountSketch.value's code * scale
        int codes = GradientWireFormat.HEADER_BYTES + 4;
        for (int j = 0; j < coordinates.length; j++) {
          out[coordinates[j]] = raw[codes + j] * scale;
        }
      }
    } finally {
      exit(claimed);
    }
  }

  private void checkCoordinates(int[] coordinates, int k) {
    Objects.requireNonNull(coordinates, "coordinates");
    if (coordinates.length != k) {
      throw new ShapeException("expected the " + k + " coordinates of the count sketch, got " + coordinates.length);
    }
    int prev = -1;
    for (int i : coordinates) {
      if (i <= prev || i >= dimension) {
        throw new ShapeException("coordinates must ascend within [0, " + dimension + "), got " + i + " after " + prev);
      }
      prev = i;
    }
  }

  private static void requireTable(TernaryCompressedGradient g, String method) {
    if (g.encoding() != GradientEncoding.COUNT_SKETCH || g.isSketchValues()) {
      throw new ShapeException(method + " needs a count sketch table message, got " + g);
    }
  }

  private void tiles(int rows, int c) {
    if (rows > 1 && (csTiles == null || csTiles.length < rows * c)) {
      csTiles = new float[rows * c];
    }
  }

  /**
   * Advances the step counter without a message, for a worker that sends nothing in a step (no
   * examples), so that its next message carries the same step, and so the same count sketch
   * hashes, as the other workers'. The residual is kept.
   */
  public void skipStep() {
    boolean claimed = enter("skipStep");
    try {
      step++;
    } finally {
      exit(claimed);
    }
  }

  /** Clears the residual and the step counter (for example after loading a checkpoint). */
  public void reset() {
    boolean claimed = enter("reset");
    try {
      resetUnguarded();
    } finally {
      exit(claimed);
    }
  }

  private void resetUnguarded() {
    Arrays.fill(residual, 0f);
    step = 0;
    pending = null;
  }

  /**
   * Sets the residual and the step counter from a checkpoint ({@link #residual()} and
   * {@link #step()} of a compressor with the same settings); the next message is then the one the
   * checkpointed compressor would have sent. The byte totals of {@link #stats()} are not part of
   * the state and are left as they are.
   *
   * @param step the number of gradients compressed, 0 or more
   * @param residual exactly {@link #dimension()} finite values (copied)
   * @throws ShapeException if the length is wrong, the step negative or a value not finite
   */
  public void restore(long step, float[] residual) {
    boolean claimed = enter("restore");
    try {
      Objects.requireNonNull(residual, "residual");
      if (residual.length != dimension || step < 0) {
        throw new ShapeException("compressor state of " + residual.length + " values at step " + step + " for a compressor of "
            + dimension + " values");
      }
      for (int i = 0; i < residual.length; i++) {
        if (!Float.isFinite(residual[i])) {
          throw new ShapeException("compressor residual value " + i + " is " + residual[i]);
        }
      }
      System.arraycopy(residual, 0, this.residual, 0, dimension);
      this.step = step;
    } finally {
      exit(claimed);
    }
  }

  /** A copy of the current error-feedback residual. */
  public float[] residual() {
    boolean claimed = enter("residual");
    try {
      return residualUnguarded();
    } finally {
      exit(claimed);
    }
  }

  private float[] residualUnguarded() {
    return residual.clone();
  }

  /** Totals so far. */
  public CompressionStats stats() {
    boolean claimed = enter("stats");
    try {
      return statsUnguarded();
    } finally {
      exit(claimed);
    }
  }

  private CompressionStats statsUnguarded() {
    double r = config.errorFeedback() ? Math.sqrt(new ScalarCompressionKernels().sumOfSquares(residual, dimension)) : 0.0;
    return new CompressionStats(step, originalBytes, wireBytes, lastWire, lastNonZeros, r);
  }

  /**
   * Wire bytes over f32 bytes over every gradient compressed so far (headers, scales and checksums
   * included); the configured target before the first.
   */
  public double compressionRatio() {
    return originalBytes == 0 ? config.compressionRatio() : (double) wireBytes / originalBytes;
  }

  /** The settings. */
  public CompressionConfig config() {
    return config;
  }

  /** The gradient size. */
  public int dimension() {
    return dimension;
  }

  /** The number of gradients compressed so far (the next message's step). */
  public long step() {
    return step;
  }
}
