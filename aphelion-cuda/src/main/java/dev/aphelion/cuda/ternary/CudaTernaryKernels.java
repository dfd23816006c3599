package dev.aphelion.cuda.ternary;

import dev.aphelion.core.error.BackendException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.cuda.driver.CudaContext;
import dev.aphelion.cuda.driver.CudaKernel;
import dev.aphelion.cuda.driver.CudaModule;
import dev.aphelion.cuda.driver.CudaStream;
import dev.aphelion.cuda.driver.DeviceBuffer;
import dev.aphelion.tritter.ternary.PackedTernary;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * The ternary kernels on one CUDA context: weight upload and absmean quantization into the {@link
 * GpuTernaryLayout}, ternary GEMV/GEMM with float, bfloat16 or int8 (W1.58A8) activations.
 *
 * <p>Host-array methods ({@code matmul(w, float[], batch)} and friends) copy, run and copy back;
 * the device-buffer methods only queue work on {@link #stream()} so that callers can chain kernels
 * and time them with events. Closing this object unloads the module and frees the stream; matrices
 * and products created through it belong to the context and are freed when the context closes, if
 * not earlier.
 *
 * <p>Numerics. Integer and ternary results (int8 products, activation and absmean quantization,
 * layout conversion) equal aphelion-tritter's scalar reference exactly. Float-activation products
 * sum in a different order than a scalar loop: {@code |y - y_ref| <= 2 · cols · 2^-24 · scale ·
 * Σ_k |x_k|} per output (documented in docs/formats.md).
 */
public final class CudaTernaryKernels implements AutoCloseable {

  private static final int THREADS = 256;
  private static final int QUANT_THREADS = 1024;
  /** 256 threads x 16 vectors of 4 (APH_Q1_VEC in the kernel source). */
  private static final int SINGLE_PASS_MAX_COLS = 256 * 16 * 4;
  private static final int LAYOUT_NATURAL = 0;
  private static final int LAYOUT_LANE = 1;

  private final CudaContext context;
  private final boolean ownsContext;
  private final CudaModule module;
  private final CudaStream stream;
  private final CudaKernel packFromTritter;
  private final CudaKernel unpackToTritter;
  private final CudaKernel absmeanScales;
  private final CudaKernel absmeanPack;
  private final CudaKernel quantF32;
  private final CudaKernel quantBf16;
  private final CudaKernel quant1F32;
  private final CudaKernel quant1Bf16;
  private final CudaKernel gemvS8;
  private final CudaKernel gemvWide;
  // Null unless the device has compute capability 9.0 (clusters; the sm_80 image's body is empty).
  private final CudaKernel gemvCluster;
  private final CudaKernel gemvFused;
  private final int fusedMaxCols;
  private final CudaKernel[] skinny = new CudaKernel[4];
  private final CudaKernel[] gemvF32 = new CudaKernel[4];
  private final CudaKernel[] gemvBf16 = new CudaKernel[4];
  private final Map<Int8Kernel, CudaKernel> tiled = new EnumMap<>(Int8Kernel.class);

  private CudaTernaryKernels(CudaContext context, boolean ownsContext) {
    this.context = context;
    this.ownsContext = ownsContext;
    CudaModule m = context.loadModule(KernelImage.fatbin());
    try {
      this.module = m;
      this.stream = context.createStream();
      packFromTritter = m.kernel("aph_pack_from_tritter");
      unpackToTritter = m.kernel("aph_unpack_to_tritter");
      absmeanScales = m.kernel("aph_absmean_scales");
      absmeanPack = m.kernel("aph_absmean_pack");
      quantF32 = m.kernel("aph_quantize_act_f32");
      quantBf16 = m.kernel("aph_quantize_act_bf16");
      quant1F32 = m.kernel("aph_quantize_act1_f32");
      quant1Bf16 = m.kernel("aph_quantize_act1_bf16");
      gemvS8 = m.kernel("aph_gemv_s8");
      gemvFused = m.kernel("aph_gemv_s8_fused");
      // The fused kernel keeps the int8 token in dynamic shared memory (static use: 384 bytes).
      int fusedShared = Math.min(context.device().maxSharedPerBlockOptin() - 1024, 96 * 1024);
      gemvFused.setMaxDynamicSharedMemory(fusedShared);
      gemvWide = m.kernel("aph_gemv_s8_wide");
      gemvWide.setMaxDynamicSharedMemory(fusedShared);
      fusedMaxCols = fusedShared / GpuTernaryLayout.K_BLOCK * GpuTernaryLayout.K_BLOCK;
      for (int i = 0; i < 4; i++) {
        int nt = 1 << i;
        skinny[i] = m.kernel("aph_gemm_s8_skinny_" + nt);
        gemvF32[i] = m.kernel("aph_gemv_f32_" + nt);
        gemvBf16[i] = m.kernel("aph_gemv_bf16_" + nt);
      }
      int optin = context.device().maxSharedPerBlockOptin();
      // The wgmma kernels exist as machine code only for sm_90a (compute capability 9.0 exactly).
      boolean hopper = context.device().computeCapability() == 90;
      CudaKernel cluster = null;
      if (hopper) {
        cluster = m.kernel("aph_gemv_s8_cluster");
        cluster.setMaxDynamicSharedMemory(fusedShared);
      }
      gemvCluster = cluster;
      for (Int8Kernel k : Int8Kernel.values()) {
        if (k.tiled() && k.sharedBytes() <= optin && (hopper || !k.hopperOnly())) {
          CudaKernel f = m.kernel(k.symbol());
          f.setMaxDynamicSharedMemory(k.sharedBytes());
          tiled.put(k, f);
        }
      }
    } catch (RuntimeException e) {
      m.close();
      throw e;
    }
  }

  /**
   * Loads the kernels into an existing context (which stays the caller's to close).
   *
   * @param context the context
   * @return the kernels; close them when done
   * @throws BackendException if the module cannot be loaded on this device
   */
  public static CudaTernaryKernels create(CudaContext context) {
    return new CudaTernaryKernels(Objects.requireNonNull(context, "context"), false);
  }

  /**
   * Opens a device's context and loads the kernels; closing the result closes the context.
   *
   * @param ordinal the device ordinal
   * @return the kernels
   * @throws BackendException if CUDA is unavailable or the module cannot be loaded
   */
  public static CudaTernaryKernels open(int ordinal) {
    CudaContext ctx = CudaContext.create(ordinal);
    try {
      return new CudaTernaryKernels(ctx, true);
    } catch (RuntimeException e) {
      ctx.close();
      throw e;
    }
  }

  /**
   * The context the kernels run in.
   *
   * @return the context
   */
  public CudaContext context() {
    return context;
  }

  /**
   * The stream all device-buffer methods queue on.
   *
   * @return the stream
   */
  public CudaStream stream() {
    return stream;
  }

  /**
   * Whether a tiled tensor-core kernel can run on this device (enough shared memory per block;
   * compute capability 9.0 for the {@code WG_*} kernels).
   *
   * @param kernel a {@code TC_*} kernel
   * @return true if it was loaded
   */
  public boolean supports(Int8Kernel kernel) {
    return !kernel.tiled() || tiled.containsKey(kernel);
  }

  // ------------------------------------------------------------------------------------------
  // Weights
  // ------------------------------------------------------------------------------------------

  /**
   * Uploads ternary weights given in the tritter byte format, converting them to the GPU layout
   * on the device.
   *
   * @param packed {@code rows * ceil(cols / 4)} bytes, 2 bits per trit ({@code 00}=0, {@code
   *     01}=+1, {@code 10}=-1), least significant first, rows byte-aligned
   * @param rowScales {@code rows} finite scales
   * @param rows output features
   * @param cols input features
   * @return the matrix on the device
   * @throws ShapeException if a length does not match or a scale is not finite
   * @throws dev.aphelion.core.error.SerializationException if a byte holds code 11 or non-zero
   *     padding bits
   */
  public GpuTernaryMatrix upload(byte[] packed, float[] rowScales, int rows, int cols) {
    Objects.requireNonNull(packed, "packed");
    Objects.requireNonNull(rowScales, "rowScales");
    GpuTernaryLayout.checkShape(rows, cols);
    int bpr = GpuTernaryLayout.tritterBytesPerRow(cols);
    if (packed.length != (long) rows * bpr) {
      throw new ShapeException(
          "packed ternary " + rows + "x" + cols + " needs " + ((long) rows * bpr) + " bytes, got " + packed.length);
    }
    if (rowScales.length != rows) {
      throw new ShapeException("need " + rows + " row scales, got " + rowScales.length);
    }
    requireFinite(rowScales, "row scale");
    GpuTernaryLayout.validateTritter(packed, rows, cols);
    GpuTernaryMatrix w = allocateMatrix(rows, cols);
    try (DeviceBuffer src = context.allocate(packed.length)) {
      src.write(packed, 0);
      int words = (int) GpuTernaryLayout.wordCount(rows, cols);
      packFromTritter.launch(
          stream, grid(words), block(), 0, src, rows, cols, bpr, w.kBlocks(), words, w.words());
      w.scales().write(rowScales, 0);
      stream.synchronize();
    } catch (RuntimeException e) {
      w.close();
      throw e;
    }
    return w;
  }

  /**
   * Uploads an aphelion-tritter {@link PackedTernary} (one scale per row).
   *
   * @param w the weights
   * @return the matrix on the device
   * @throws ShapeException if {@code w} has more than one scale group per row (the GPU kernels
   *     apply one scale per row)
   */
  public GpuTernaryMatrix upload(PackedTernary w) {
    Objects.requireNonNull(w, "w");
    if (w.groupsPerRow() != 1) {
      throw new ShapeException("the GPU kernels take one scale per row, but W has " + w.groupsPerRow()
          + " scale groups of " + w.groupSize() + " columns per row");
    }
    return upload(w.toTritterBytes(), w.scales(), w.rows(), w.cols());
  }

  /**
   * BitNet b1.58 absmean quantization on the GPU, one scale per row: {@code scale = Σ|w| / cols}
   * (summed in column order in float; 1.0 if 0), {@code trit = clamp(round half away from zero(w /
   * scale), -1, 1)}. Bit for bit equal to aphelion-tritter's {@code TernaryQuantization.absmean} with
   * {@code groupSize = cols}.
   *
   * @param weights {@code rows * cols} finite floats, row-major
   * @param rows rows
   * @param cols columns
   * @return the quantized matrix on the device
   * @throws ShapeException if the length does not match or a weight is not finite
   */
  public GpuTernaryMatrix quantizeAbsmean(float[] weights, int rows, int cols) {
    Objects.requireNonNull(weights, "weights");
    GpuTernaryLayout.checkShape(rows, cols);
    if (weights.length != (long) rows * cols) {
      throw new ShapeException("need " + ((long) rows * cols) + " weights for " + rows + "x" + cols + ", got " + weights.length);
    }
    requireFinite(weights, "weight");
    try (DeviceBuffer src = context.allocate(4L * weights.length)) {
      src.write(weights, 0);
      GpuTernaryMatrix w = quantizeAbsmean(src, rows, cols);
      stream.synchronize();
      return w;
    }
  }

  /**
   * Queues absmean quantization of weights already on the device (see {@link
   * #quantizeAbsmean(float[], int, int)}); the weights must be finite.
   *
   * @param weights {@code rows * cols} floats, row-major
   * @param rows rows
   * @param cols columns
   * @return the matrix (valid once the stream reaches it)
   */
  public GpuTernaryMatrix quantizeAbsmean(DeviceBuffer weights, int rows, int cols) {
    GpuTernaryLayout.checkShape(rows, cols);
    if (weights.byteSize() < 4L * rows * cols) {
      throw new ShapeException("weight buffer holds " + weights.byteSize() + " bytes, needs " + (4L * rows * cols));
    }
    GpuTernaryMatrix w = allocateMatrix(rows, cols);
    try {
      absmeanScales.launch(stream, new int[] {(rows + 255) / 256}, block(), 0, weights, rows, cols, w.scales());
      int words = (int) GpuTernaryLayout.wordCount(rows, cols);
      absmeanPack.launch(
          stream, grid(words), block(), 0, weights, w.scales(), rows, cols, w.kBlocks(), words, w.words());
    } catch (RuntimeException e) {
      w.close();
      throw e;
    }
    return w;
  }

  private GpuTernaryMatrix allocateMatrix(int rows, int cols) {
    long words = GpuTernaryLayout.wordCount(rows, cols);
    if (words > Integer.MAX_VALUE) {
      throw new ShapeException("matrix " + rows + "x" + cols + " is too large for the GPU layout (2^31 words)");
    }
    DeviceBuffer wb = context.allocate(4L * words);
    try {
      return new GpuTernaryMatrix(this, wb, context.allocate(4L * rows), rows, cols);
    } catch (RuntimeException e) {
      wb.close();
      throw e;
    }
  }

  byte[] unpackToTritter(GpuTernaryMatrix w) {
    int bpr = GpuTernaryLayout.tritterBytesPerRow(w.cols());
    long n = (long) w.rows() * bpr;
    try (DeviceBuffer out = context.allocate(n)) {
      unpackToTritter.launch(
          stream, new int[] {(int) ((n + THREADS - 1) / THREADS)}, block(), 0,
          w.words(), w.rows(), w.cols(), bpr, w.kBlocks(), out);
      stream.synchronize();
      byte[] b = new byte[(int) n];
      out.read(b, 0);
      return b;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Float and bfloat16 activations
  // ------------------------------------------------------------------------------------------

  /**
   * {@code y[t][r] = scale[r] · Σ_k w[r][k] · x[t][k]} with float activations.
   *
   * @param w the weights
   * @param x {@code [batch][cols]} finite floats
   * @param batch number of tokens, at least 1
   * @return {@code [batch][rows]}
   * @throws ShapeException on a shape mismatch or a non-finite activation
   */
  public float[] matmul(GpuTernaryMatrix w, float[] x, int batch) {
    checkHostActivations(w, x == null ? -1 : x.length, batch);
    requireFinite(x, "activation");
    int kPad = w.kBlocks() * GpuTernaryLayout.K_BLOCK;
    float[] padded = new float[batch * kPad];
    for (int t = 0; t < batch; t++) {
      System.arraycopy(x, t * w.cols(), padded, t * kPad, w.cols());
    }
    try (DeviceBuffer xd = context.allocate(4L * padded.length);
        DeviceBuffer yd = context.allocate(4L * batch * w.rows())) {
      xd.write(padded, 0);
      matmul(w, xd, kPad, batch, yd, w.rows());
      return readOutput(yd, batch * w.rows());
    }
  }

  /**
   * Like {@link #matmul(GpuTernaryMatrix, float[], int)} with bfloat16 activations (bit patterns).
   *
   * @param w the weights
   * @param x {@code [batch][cols]} bfloat16 values, finite
   * @param batch number of tokens
   * @return {@code [batch][rows]} floats
   */
  public float[] matmulBf16(GpuTernaryMatrix w, short[] x, int batch) {
    checkHostActivations(w, x == null ? -1 : x.length, batch);
    for (int i = 0; i < x.length; i++) {
      if (!Float.isFinite(Float.intBitsToFloat(x[i] << 16))) {
        throw new ShapeException("activation " + i + " is not finite (bfloat16 0x" + Integer.toHexString(x[i] & 0xffff) + ")");
      }
    }
    int kPad = w.kBlocks() * GpuTernaryLayout.K_BLOCK;
    short[] padded = new short[batch * kPad];
    for (int t = 0; t < batch; t++) {
      System.arraycopy(x, t * w.cols(), padded, t * kPad, w.cols());
    }
    try (DeviceBuffer xd = context.allocate(2L * padded.length);
        DeviceBuffer yd = context.allocate(4L * batch * w.rows())) {
      xd.write(padded, 0);
      matmulBf16(w, xd, kPad, batch, yd, w.rows());
      return readOutput(yd, batch * w.rows());
    }
  }

  /**
   * Queues a float-activation product on device buffers. The kernel reads whole 256-column blocks:
   * each activation row must hold {@code kBlocks * 256} floats whose tail past {@code cols} is zero.
   *
   * @param w the weights
   * @param x {@code [batch][ldx]} floats
   * @param ldx row stride, a multiple of 4 and at least {@code kBlocks * 256}
   * @param batch number of tokens
   * @param y {@code [batch][ldy]} floats, the first {@code rows} of each row written
   * @param ldy row stride, at least {@code rows}
   */
  public void matmul(GpuTernaryMatrix w, DeviceBuffer x, int ldx, int batch, DeviceBuffer y, int ldy) {
    launchFloat(w, x, ldx, batch, y, ldy, 4, gemvF32);
  }

  /**
   * Queues a bfloat16-activation product on device buffers (see {@link #matmul(GpuTernaryMatrix,
   * DeviceBuffer, int, int, DeviceBuffer, int)}; {@code x} holds bfloat16 bit patterns).
   *
   * @param w the weights
   * @param x {@code [batch][ldx]} bfloat16 values
   * @param ldx row stride in elements, a multiple of 4 and at least {@code kBlocks * 256}
   * @param batch number of tokens
   * @param y {@code [batch][ldy]} floats
   * @param ldy row stride, at least {@code rows}
   */
  public void matmulBf16(GpuTernaryMatrix w, DeviceBuffer x, int ldx, int batch, DeviceBuffer y, int ldy) {
    launchFloat(w, x, ldx, batch, y, ldy, 2, gemvBf16);
  }

  private void launchFloat(
      GpuTernaryMatrix w, DeviceBuffer x, int ldx, int batch, DeviceBuffer y, int ldy, int elem, CudaKernel[] ks) {
    int kPad = w.kBlocks() * GpuTernaryLayout.K_BLOCK;
    if (batch < 1) {
      throw new ShapeException("batch must be at least 1, got " + batch);
    }
    if (ldx < kPad || ldx % 4 != 0) {
      throw new ShapeException("ldx must be a multiple of 4 and at least " + kPad + ", got " + ldx);
    }
    if (ldy < w.rows()) {
      throw new ShapeException("ldy " + ldy + " is less than the " + w.rows() + " rows of W");
    }
    if (x.byteSize() < (long) elem * ((long) (batch - 1) * ldx + kPad)) {
      throw new ShapeException("activation buffer of " + x.byteSize() + " bytes is too small");
    }
    if (y.byteSize() < 4L * ((long) (batch - 1) * ldy + w.rows())) {
      throw new ShapeException("output buffer of " + y.byteSize() + " bytes is too small");
    }
    int groups = (w.rows() + 7) / 8;
    for (int t0 = 0; t0 < batch; t0 += 8) {
      int n = Math.min(8, batch - t0);
      int idx = n == 1 ? 0 : n == 2 ? 1 : n <= 4 ? 2 : 3;
      ks[idx].launch(
          stream, new int[] {groups}, block(), 0,
          w.words(), x.address() + (long) elem * t0 * ldx, ldx, w.scales(),
          y.address() + 4L * t0 * ldy, w.rows(), ldy, w.kBlocks(), n);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Int8 activations (W1.58A8)
  // ------------------------------------------------------------------------------------------

  /**
   * W1.58A8 product from float activations: per-token int8 quantization on the GPU ({@code scale =
   * max|x| / 127}), ternary x int8 with int32 accumulation, then {@code ((float) acc · wScale) ·
   * xScale}. Equal, bit for bit, to aphelion-tritter's {@code Int8Activations.quantize} followed
   * by {@code TernaryMatmul.gemmInt8}.
   *
   * @param w the weights
   * @param x {@code [batch][cols]} finite floats
   * @param batch number of tokens
   * @return {@code [batch][rows]}
   */
  public float[] matmulInt8(GpuTernaryMatrix w, float[] x, int batch) {
    return matmulInt8(w, x, batch, Int8Kernel.AUTO);
  }

  /**
   * {@link #matmulInt8(GpuTernaryMatrix, float[], int)} with a chosen kernel.
   *
   * @param w the weights
   * @param x {@code [batch][cols]} finite floats
   * @param batch number of tokens
   * @param kernel the kernel, or {@link Int8Kernel#AUTO}
   * @return {@code [batch][rows]}
   */
  public float[] matmulInt8(GpuTernaryMatrix w, float[] x, int batch, Int8Kernel kernel) {
    checkHostActivations(w, x == null ? -1 : x.length, batch);
    requireFinite(x, "activation");
    try (Int8Matmul mm = prepareInt8(w, batch, kernel);
        DeviceBuffer xd = context.allocate(4L * x.length);
        DeviceBuffer yd = context.allocate(4L * batch * w.rows())) {
      xd.write(x, 0);
      mm.quantize(xd, w.cols());
      mm.multiply(yd, w.rows());
      return readOutput(yd, batch * w.rows());
    }
  }

  /**
   * Quantizes activations to per-token int8 on the GPU and copies the result back (for checks
   * against the CPU quantizer).
   *
   * @param x {@code [batch][cols]} finite floats
   * @param batch number of tokens
   * @param cols values per token
   * @return the quantized activations
   */
  public QuantizedActivations quantizeActivations(float[] x, int batch, int cols) {
    Objects.requireNonNull(x, "x");
    if (batch < 1 || cols < 1 || x.length != (long) batch * cols) {
      throw new ShapeException("activations of " + x.length + " floats do not match " + batch + "x" + cols);
    }
    requireFinite(x, "activation");
    // A 16 x cols matrix of zeros only gives the quantizer its shape.
    try (GpuTernaryMatrix shape = allocateMatrix(16, cols);
        Int8Matmul mm = new Int8Matmul(this, shape, batch, Int8Kernel.TC_128X256);
        DeviceBuffer xd = context.allocate(4L * x.length)) {
      xd.write(x, 0);
      mm.quantize(xd, cols);
      return mm.readQuantized();
    }
  }

  /**
   * Prepares a W1.58A8 product for a fixed batch size, allocating its workspace.
   *
   * @param w the weights
   * @param batch tokens per call, at least 1
   * @param kernel the kernel, or {@link Int8Kernel#AUTO} to choose by batch size
   * @return the prepared product; close it to free the workspace
   * @throws BackendException if a tiled kernel was asked for that this device cannot run
   */
  public Int8Matmul prepareInt8(GpuTernaryMatrix w, int batch, Int8Kernel kernel) {
    Objects.requireNonNull(w, "w");
    Objects.requireNonNull(kernel, "kernel");
    if (batch < 1) {
      throw new ShapeException("batch must be at least 1, got " + batch);
    }
    Int8Kernel k = kernel == Int8Kernel.AUTO ? choose(w, batch) : kernel;
    if (!supports(k)) {
      throw new BackendException(k + " needs " + k.sharedBytes() + " bytes of shared memory per block; "
          + context.device().name() + " allows " + context.device().maxSharedPerBlockOptin());
    }
    if (k == Int8Kernel.GEMV_WIDE && w.cols() > fusedMaxCols) {
      throw new ShapeException(w.cols() + " columns exceed GEMV_WIDE's " + fusedMaxCols);
    }
    return new Int8Matmul(this, w, batch, k);
  }

  /**
   * The kernel AUTO runs: GEMV for one token, the skinny kernel up to 64, and above that on
   * compute capability 9.0 the 128 x 128 wgmma kernel (the fastest or tied on every measured
   * shape), elsewhere the mma.sync 128 x 256 tiles where they fill every multiprocessor, else
   * 128 x 128 (measured on an H100: docs/performance.md, "GPU kernels").
   */
  Int8Kernel choose(GpuTernaryMatrix w, int batch) {
    if (batch == 1) {
      return Int8Kernel.GEMV;
    }
    if (batch <= Int8Matmul.SKINNY_MAX_TOKENS) {
      return Int8Kernel.SKINNY;
    }
    if (supports(Int8Kernel.WG_128X128)) {
      return Int8Kernel.WG_128X128;
    }
    int sms = Math.max(1, context.device().multiprocessors());
    Int8Kernel big = Int8Kernel.TC_128X256;
    if (supports(big) && tiles(w, batch, big) >= sms) {
      return big;
    }
    return supports(Int8Kernel.TC_128X128) ? Int8Kernel.TC_128X128 : Int8Kernel.SKINNY;
  }

  private static long tiles(GpuTernaryMatrix w, int batch, Int8Kernel k) {
    return (long) ((batch + k.blockTokens() - 1) / k.blockTokens())
        * ((w.rowGroups() + k.blockRows() / 8 - 1) / (k.blockRows() / 8));
  }

  void quantizeActivations(Int8Matmul mm, DeviceBuffer x, int ldx, boolean bf16) {
    quantizeRaw(x, ldx, mm.weights().cols(), mm.batch(), mm.qRows(), mm.naturalLayout(), mm.q(), mm.xsum(), mm.xscale(), bf16);
  }

  private void quantizeRaw(DeviceBuffer x, int ldx, int cols, int batch, int qRows, boolean natural, DeviceBuffer q,
      DeviceBuffer xsum, DeviceBuffer xscale, boolean bf16) {
    int kPad = GpuTernaryLayout.kBlocks(cols) * GpuTernaryLayout.K_BLOCK;
    // Single pass (the token stays in registers) when rows are whole 4-column vectors, aligned,
    // and short enough; else the two-pass kernel re-reads each token.
    int align = bf16 ? 8 : 16;
    boolean single = cols % 4 == 0 && ldx % 4 == 0 && x.address() % align == 0
        && cols <= SINGLE_PASS_MAX_COLS;
    CudaKernel kernel = single ? (bf16 ? quant1Bf16 : quant1F32) : (bf16 ? quantBf16 : quantF32);
    kernel.launch(
        stream, new int[] {qRows}, new int[] {single ? THREADS : QUANT_THREADS}, 0,
        x, ldx, cols, batch, kPad, natural ? LAYOUT_NATURAL : LAYOUT_LANE,
        q, xsum, xscale);
  }

  // ------------------------------------------------------------------------------------------
  // Int8 inputs shared by several weight matrices
  // ------------------------------------------------------------------------------------------

  /**
   * Allocates room for the per-token int8 form of up to {@code maxBatch} activation rows of
   * {@code cols}, to be quantized once ({@link #quantize(Int8Input, DeviceBuffer, int, int)}) and
   * multiplied by every matrix of that width ({@link #multiply(GpuTernaryMatrix, Int8Input,
   * DeviceBuffer, int)}), as the q, k and v projections of one input are.
   *
   * @param cols values per row
   * @param maxBatch rows at most, at least 1
   * @return the workspace; close it to free it
   */
  public Int8Input allocateInput(int cols, int maxBatch) {
    if (cols < 1 || maxBatch < 1) {
      throw new ShapeException("int8 input needs cols and batch of at least 1, got " + cols + " and " + maxBatch);
    }
    long kPad = (long) GpuTernaryLayout.kBlocks(cols) * GpuTernaryLayout.K_BLOCK;
    // Room for the padding of every kernel: tiles of up to 256 tokens.
    int rows = Int8Matmul.roundUp(maxBatch, 256);
    DeviceBuffer q = context.allocate(rows * kPad);
    DeviceBuffer sum = null;
    try {
      sum = context.allocate(4L * rows);
      return new Int8Input(q, sum, context.allocate(4L * rows), cols, maxBatch);
    } catch (RuntimeException e) {
      q.close();
      if (sum != null) {
        sum.close();
      }
      throw e;
    }
  }

  /**
   * The kernel a shared input of {@code batch} rows is laid out for (it does not depend on the
   * matrix): GEMV for one token, the skinny kernel up to 64, the 128 x 128 wgmma kernel on
   * compute capability 9.0 above that, else the 128 x 128 mma.sync tiles.
   */
  Int8Kernel chooseShared(int batch) {
    if (batch == 1) {
      return Int8Kernel.GEMV;
    }
    if (batch <= Int8Matmul.SKINNY_MAX_TOKENS) {
      return Int8Kernel.SKINNY;
    }
    if (supports(Int8Kernel.WG_128X128)) {
      return Int8Kernel.WG_128X128;
    }
    return supports(Int8Kernel.TC_128X128) ? Int8Kernel.TC_128X128 : Int8Kernel.SKINNY;
  }

  /**
   * Queues per-token int8 quantization of {@code batch} float rows into {@code in}.
   *
   * @param in the workspace
   * @param x {@code [batch][ldx]} floats, the first {@code in.cols()} of each row used
   * @param ldx row stride in floats
   * @param batch rows, at most {@code in.maxBatch()}
   */
  public void quantize(Int8Input in, DeviceBuffer x, int ldx, int batch) {
    Objects.requireNonNull(in, "in");
    Objects.requireNonNull(x, "x");
    if (batch < 1 || batch > in.maxBatch()) {
      throw new ShapeException("batch " + batch + " outside [1, " + in.maxBatch() + "]");
    }
    if (ldx < in.cols() || x.byteSize() < 4L * ((long) (batch - 1) * ldx + in.cols())) {
      throw new ShapeException("activation buffer of " + x.byteSize() + " bytes with ldx " + ldx + " does not hold " + batch
          + " rows of " + in.cols());
    }
    Int8Kernel k = chooseShared(batch);
    int qRows = switch (k) {
      case GEMV, GEMV_WIDE -> batch;
      case SKINNY -> batch <= Int8Matmul.SKINNY_MAX_TOKENS ? 8 * Int8Matmul.skinnyTiles(batch)
          : Int8Matmul.roundUp(batch, Int8Matmul.SKINNY_MAX_TOKENS);
      default -> Int8Matmul.roundUp(batch, k.blockTokens());
    };
    quantizeRaw(x, ldx, in.cols(), batch, qRows, k.tiled(), in.q(), in.xsum(), in.xscale(), false);
    in.quantized(batch, k);
  }

  /**
   * Queues {@code y = W · in} for the rows last quantized into {@code in}.
   *
   * @param w the weights, {@code w.cols() == in.cols()}
   * @param in the quantized rows
   * @param y {@code [batch][ldy]} floats
   * @param ldy row stride, at least {@code w.rows()}
   */
  public void multiply(GpuTernaryMatrix w, Int8Input in, DeviceBuffer y, int ldy) {
    Objects.requireNonNull(w, "w");
    Objects.requireNonNull(in, "in");
    if (w.cols() != in.cols()) {
      throw new ShapeException("W has " + w.cols() + " columns, the int8 input " + in.cols());
    }
    if (in.batch() == 0) {
      throw new IllegalStateException("the int8 input holds no rows; quantize first");
    }
    if (ldy < w.rows() || y.byteSize() < 4L * ((long) (in.batch() - 1) * ldy + w.rows())) {
      throw new ShapeException("output buffer of " + y.byteSize() + " bytes with ldy " + ldy + " does not hold " + in.batch()
          + " rows of " + w.rows());
    }
    multiplyRaw(w, in.kernel(), in.batch(), in.q(), in.xsum(), in.xscale(), y, ldy);
  }

  /**
   * The widest input {@link #quantizeMultiply} takes (its int8 token is kept in shared memory).
   *
   * @return columns at most
   */
  public int fusedMaxCols() {
    return fusedMaxCols;
  }

  /**
   * Queues {@code y = W · quantize(x)} for one token in one kernel: the per-token int8
   * quantization is the GEMV's prologue. The result has the same bits as {@link
   * #quantize(Int8Input, DeviceBuffer, int, int)} followed by {@link #multiply(GpuTernaryMatrix,
   * Int8Input, DeviceBuffer, int)}.
   *
   * @param w the weights, at most {@link #fusedMaxCols()} columns
   * @param x at least {@code w.cols()} floats
   * @param y at least {@code w.rows()} floats
   */
  public void quantizeMultiply(GpuTernaryMatrix w, DeviceBuffer x, DeviceBuffer y) {
    Objects.requireNonNull(w, "w");
    quantizeMultiply(new GpuTernaryMatrix[] {w}, null, x, w.cols(), 1, new DeviceBuffer[] {y}, new int[] {w.rows()}, null, 0,
        null, 0);
  }

  /**
   * Queues, in one kernel, the int8 quantization of {@code batch} float rows and their products
   * with up to three matrices of the same width (for example the q, k and v projections of one
   * input): {@code ys[i] = ws[i] · quantize(x) (+ biases[i])}, and with a {@code residual}
   * (one matrix only) also {@code residual += ys[0]}. Every block quantizes the rows itself, so
   * the values are those of {@link #quantize(Int8Input, DeviceBuffer, int, int)} and {@link
   * #multiply(GpuTernaryMatrix, Int8Input, DeviceBuffer, int)} bit for bit (the bias and residual
   * additions rounded as one float addition each). Meant for one row: each row's blocks read
   * the weights again.
   *
   * @param ws one to three matrices with equal column counts, at most {@link #fusedMaxCols()}
   * @param biases {@code null}, or one entry per matrix, each {@code null} or {@code rows} floats
   * @param x {@code [batch][ldx]} floats
   * @param ldx row stride of {@code x} in floats
   * @param batch rows, at least 1
   * @param ys one output per matrix, {@code [batch][ldys[i]]} floats
   * @param ldys row strides of the outputs, each at least its matrix's rows
   * @param residual {@code null}, or {@code [batch][ldr]} floats to add {@code ys[0]} to
   * @param ldr row stride of {@code residual}
   * @param keep {@code null}, or (batch 1 only) a workspace that receives the int8 row, as if
   *     {@link #quantize(Int8Input, DeviceBuffer, int, int)} had run
   * @param blocksPerSm blocks per multiprocessor the grid is capped at (a tuning knob; 0 for the
   *     default of 4)
   */
  public void quantizeMultiply(GpuTernaryMatrix[] ws, DeviceBuffer[] biases, DeviceBuffer x, int ldx, int batch,
      DeviceBuffer[] ys, int[] ldys, DeviceBuffer residual, int ldr, Int8Input keep, int blocksPerSm) {
    normQuantizeMultiply(null, 0f, ws, biases, x, ldx, batch, ys, ldys, residual, ldr, keep, blocksPerSm);
  }

  /**
   * {@link #quantizeMultiply(GpuTernaryMatrix[], DeviceBuffer[], DeviceBuffer, int, int,
   * DeviceBuffer[], int[], DeviceBuffer, int, Int8Input, int)} of the RMS-normalized rows: with a
   * {@code gain}, each row of {@code x} becomes {@code x / sqrt(mean(x²) + eps) · gain} in the
   * kernel's prologue (nothing is written back to {@code x}), the arithmetic of the RMSNorm
   * kernel of {@code CudaComputeOps} except that the sum of squares runs in another order, so the
   * norm's factor may differ from it in the last bit.
   *
   * @param gain {@code null} for no norm, or {@code ws[0].cols()} floats
   * @param eps added to the mean square, finite and not negative
   * @param ws as in the other overload
   * @param biases as in the other overload
   * @param x as in the other overload
   * @param ldx as in the other overload
   * @param batch as in the other overload
   * @param ys as in the other overload
   * @param ldys as in the other overload
   * @param residual as in the other overload
   * @param ldr as in the other overload
   * @param keep as in the other overload (receives the normalized row quantized)
   * @param blocksPerSm as in the other overload
   */
  public void normQuantizeMultiply(DeviceBuffer gain, float eps, GpuTernaryMatrix[] ws, DeviceBuffer[] biases, DeviceBuffer x,
      int ldx, int batch, DeviceBuffer[] ys, int[] ldys, DeviceBuffer residual, int ldr, Int8Input keep, int blocksPerSm) {
    normQuantizeMultiply(gain, eps, ws, biases, x, ldx, batch, ys, ldys, residual, ldr, keep, blocksPerSm, FusedGemv.AUTO);
  }

  /**
   * {@link #normQuantizeMultiply(DeviceBuffer, float, GpuTernaryMatrix[], DeviceBuffer[],
   * DeviceBuffer, int, int, DeviceBuffer[], int[], DeviceBuffer, int, Int8Input, int)} with a chosen
   * kernel (benchmarks and tests compare them; both give the same bits without a gain).
   *
   * @param gain as in the other overload
   * @param eps as in the other overload
   * @param ws as in the other overload
   * @param biases as in the other overload
   * @param x as in the other overload
   * @param ldx as in the other overload
   * @param batch as in the other overload
   * @param ys as in the other overload
   * @param ldys as in the other overload
   * @param residual as in the other overload
   * @param ldr as in the other overload
   * @param keep as in the other overload
   * @param blocksPerSm blocks per multiprocessor the grid is sized for (0: 4 for {@link
   *     FusedGemv#PER_BLOCK}, 3 for {@link FusedGemv#CLUSTER})
   * @param kernel the kernel, or {@link FusedGemv#AUTO}
   * @throws BackendException if {@link FusedGemv#CLUSTER} is asked for where it cannot run
   */
  public void normQuantizeMultiply(DeviceBuffer gain, float eps, GpuTernaryMatrix[] ws, DeviceBuffer[] biases, DeviceBuffer x,
      int ldx, int batch, DeviceBuffer[] ys, int[] ldys, DeviceBuffer residual, int ldr, Int8Input keep, int blocksPerSm,
      FusedGemv kernel) {
    Objects.requireNonNull(kernel, "kernel");
    Objects.requireNonNull(ws, "ws");
    Objects.requireNonNull(x, "x");
    Objects.requireNonNull(ys, "ys");
    Objects.requireNonNull(ldys, "ldys");
    int n = ws.length;
    if (n < 1 || n > 3 || ys.length != n || ldys.length != n || (biases != null && biases.length != n)) {
      throw new ShapeException("1 to 3 matrices with one output and stride each, got " + n + " matrices, " + ys.length
          + " outputs, " + ldys.length + " strides" + (biases != null ? ", " + biases.length + " biases" : ""));
    }
    int cols = Objects.requireNonNull(ws[0], "ws[0]").cols();
    if (cols > fusedMaxCols) {
      throw new ShapeException(cols + " columns exceed the fused kernel's " + fusedMaxCols + "; quantize and multiply instead");
    }
    if (batch < 1) {
      throw new ShapeException("batch must be at least 1, got " + batch);
    }
    if (ldx < cols || x.byteSize() < 4L * ((long) (batch - 1) * ldx + cols)) {
      throw new ShapeException("activation buffer of " + x.byteSize() + " bytes with ldx " + ldx + " does not hold " + batch
          + " rows of " + cols);
    }
    Object[] w = new Object[3];
    Object[] sc = new Object[3];
    Object[] b = new Object[3];
    Object[] y = new Object[3];
    int[] rows = new int[3];
    int[] ld = new int[3];
    int groups = 0;
    for (int i = 0; i < 3; i++) {
      w[i] = sc[i] = b[i] = y[i] = 0L;
    }
    for (int i = 0; i < n; i++) {
      GpuTernaryMatrix m = Objects.requireNonNull(ws[i], "ws[" + i + "]");
      if (m.cols() != cols) {
        throw new ShapeException("matrix " + i + " has " + m.cols() + " columns, matrix 0 has " + cols);
      }
      DeviceBuffer yi = Objects.requireNonNull(ys[i], "ys[" + i + "]");
      if (ldys[i] < m.rows() || yi.byteSize() < 4L * ((long) (batch - 1) * ldys[i] + m.rows())) {
        throw new ShapeException("output " + i + " of " + yi.byteSize() + " bytes with stride " + ldys[i] + " does not hold "
            + batch + " rows of " + m.rows());
      }
      if (biases != null && biases[i] != null) {
        if (biases[i].byteSize() < 4L * m.rows()) {
          throw new ShapeException("bias " + i + " of " + biases[i].byteSize() + " bytes for " + m.rows() + " rows");
        }
        b[i] = biases[i];
      }
      w[i] = m.words();
      sc[i] = m.scales();
      y[i] = yi;
      rows[i] = m.rows();
      ld[i] = ldys[i];
      groups += (m.rows() + 7) / 8;
    }
    if (residual != null && (n != 1 || ldr < ws[0].rows() || residual.byteSize() < 4L * ((long) (batch - 1) * ldr + ws[0].rows()))) {
      throw new ShapeException("a residual takes one matrix and must hold " + batch + " rows of " + ws[0].rows() + " at stride "
          + ldr + (n != 1 ? "; got " + n + " matrices" : ""));
    }
    if (keep != null && (batch != 1 || keep.cols() != cols)) {
      throw new ShapeException("keep takes one row of " + cols + " columns, got " + batch + " rows into " + keep.cols());
    }
    if (blocksPerSm < 0) {
      throw new IllegalArgumentException("blocksPerSm must be 0 (default) or positive, got " + blocksPerSm);
    }
    if (gain != null && gain.byteSize() < 4L * cols) {
      throw new ShapeException("gain of " + gain.byteSize() + " bytes for " + cols + " columns");
    }
    if (gain != null && !(eps >= 0f && Float.isFinite(eps))) {
      throw new IllegalArgumentException("eps must be finite and not negative, got " + eps);
    }
    int kBlocks = ws[0].kBlocks();
    boolean clusterFits = gemvCluster != null && ((cols | ldx) & 3) == 0 && (x.address() & 15) == 0
        && (gain == null || (gain.address() & 15) == 0);
    if (kernel == FusedGemv.CLUSTER && !clusterFits) {
      throw new BackendException(gemvCluster == null
          ? "the cluster kernel needs compute capability 9.0; " + context.device().name() + " has "
              + context.device().computeCapability()
          : "the cluster kernel takes a multiple of 4 columns, a stride that is a multiple of 4 and 16-byte aligned"
              + " buffers; got " + cols + " columns, ldx " + ldx);
    }
    boolean cluster = kernel == FusedGemv.CLUSTER || (kernel == FusedGemv.AUTO && clusterFits && CLUSTER_BY_DEFAULT);
    int perSm = blocksPerSm != 0 ? blocksPerSm : cluster ? WIDE_BLOCKS_PER_SM : 4;
    long cap = (long) perSm * context.device().multiprocessors();
    // Clusters of 8: the grid is a multiple of 8 (extra blocks share the quantization, then idle).
    int grid = cluster ? (int) Math.min((groups + 7) / 8 * 8L, Math.max(8, cap / 8 * 8)) : (int) Math.min(groups, cap);
    (cluster ? gemvCluster : gemvFused).launch(stream, new int[] {grid, batch}, block(), kBlocks * GpuTernaryLayout.K_BLOCK,
        x, ldx, cols, kBlocks, w[0], w[1], w[2], sc[0], sc[1], sc[2], b[0], b[1], b[2], y[0], y[1], y[2],
        rows[0], rows[1], rows[2], ld[0], ld[1], ld[2], residual != null ? residual : (Object) 0L, ldr,
        keep != null ? keep.q() : (Object) 0L, keep != null ? keep.xsum() : (Object) 0L, keep != null ? keep.xscale() : (Object) 0L,
        gain != null ? gain : (Object) 0L, eps);
    if (keep != null) {
      keep.quantized(1, Int8Kernel.GEMV);
    }
  }

  /**
   * Whether {@link FusedGemv#CLUSTER} runs here: it needs thread-block clusters, so compute
   * capability 9.0 (the only cluster-capable machine code this library carries).
   *
   * @return true on compute capability 9.0
   */
  public boolean clusterKernelAvailable() {
    return gemvCluster != null;
  }

  /**
   * {@code -Daphelion.cuda.clusterGemv=true} makes AUTO take the cluster kernel; off by default, since
   * on an H100 it made the 2B4T decode slower (416.5 against 522.8 tokens/s, docs/performance.md).
   */
  private static final boolean CLUSTER_BY_DEFAULT =
      Boolean.parseBoolean(System.getProperty("aphelion.cuda.clusterGemv", "false"));

  // Blocks of the wide GEMVs resident per multiprocessor (80 registers x 256 threads).
  private static final int WIDE_BLOCKS_PER_SM = 3;

  private int wideGrid(int groups) {
    return (int) Math.min(groups, (long) WIDE_BLOCKS_PER_SM * context.device().multiprocessors());
  }

  void multiplyInt8(Int8Matmul mm, DeviceBuffer y, int ldy) {
    multiplyRaw(mm.weights(), mm.kernel(), mm.batch(), mm.q(), mm.xsum(), mm.xscale(), y, ldy);
  }

  private void multiplyRaw(GpuTernaryMatrix w, Int8Kernel kernel, int batch, DeviceBuffer q, DeviceBuffer xsum,
      DeviceBuffer xscale, DeviceBuffer y, int ldy) {
    long kPad = (long) w.kBlocks() * GpuTernaryLayout.K_BLOCK;
    switch (kernel) {
      case GEMV ->
          gemvS8.launch(
              stream, new int[] {(w.rows() + 7) / 8, batch}, block(), 0,
              w.words(), q, xsum, xscale, w.scales(), y, w.rows(), ldy, w.kBlocks());
      case GEMV_WIDE -> {
        if (w.cols() > fusedMaxCols) {
          throw new ShapeException(w.cols() + " columns exceed GEMV_WIDE's " + fusedMaxCols);
        }
        gemvWide.launch(
            stream, new int[] {wideGrid(w.rowGroups()), batch}, block(), w.kBlocks() * GpuTernaryLayout.K_BLOCK,
            w.words(), q, xsum, xscale, w.scales(), y, w.rows(), ldy, w.kBlocks());
      }
      case SKINNY -> {
        for (int t0 = 0; t0 < batch; t0 += Int8Matmul.SKINNY_MAX_TOKENS) {
          int n = Math.min(Int8Matmul.SKINNY_MAX_TOKENS, batch - t0);
          int tiles = Int8Matmul.skinnyTiles(n);
          int idx = Integer.numberOfTrailingZeros(tiles);
          skinny[idx].launch(
              stream, new int[] {w.rowGroups() / 2}, block(), 0,
              w.words(), q.address() + t0 * kPad, xsum.address() + 4L * t0,
              xscale.address() + 4L * t0, w.scales(), y.address() + 4L * t0 * ldy,
              w.rows(), ldy, w.kBlocks(), n);
        }
      }
      default -> {
        Int8Kernel k = kernel;
        int gx = (batch + k.blockTokens() - 1) / k.blockTokens();
        int gy = (w.rowGroups() + k.blockRows() / 8 - 1) / (k.blockRows() / 8);
        tiled.get(k).launch(
            stream, new int[] {gx, gy}, new int[] {k.threads()}, k.sharedBytes(),
            w.words(), q, xsum, xscale, w.scales(), y,
            w.rows(), w.rowGroups(), ldy, w.kBlocks(), batch);
      }
    }
  }

  // ------------------------------------------------------------------------------------------

  private float[] readOutput(DeviceBuffer yd, int n) {
    stream.synchronize();
    float[] y = new float[n];
    yd.read(y, 0);
    return y;
  }

  private static void checkHostActivations(GpuTernaryMatrix w, int length, int batch) {
    Objects.requireNonNull(w, "w");
    if (length < 0) {
      throw new NullPointerException("x");
    }
    if (batch < 1) {
      throw new ShapeException("batch must be at least 1, got " + batch);
    }
    if (length != (long) batch * w.cols()) {
      throw new ShapeException(
          "activations of " + length + " values do not match batch " + batch + " x " + w.cols() + " columns");
    }
  }

  private static void requireFinite(float[] a, String what) {
    for (int i = 0; i < a.length; i++) {
      if (!Float.isFinite(a[i])) {
        throw new ShapeException(what + " " + i + " is not finite: " + a[i]);
      }
    }
  }

  private static int[] grid(long threads) {
    return new int[] {(int) ((threads + THREADS - 1) / THREADS)};
  }

  private static int[] block() {
    return new int[] {THREADS};
  }

  /** Unloads the module and frees the stream; closes the context if {@link #open} created it. */
  @Override
  public void close() {
    try {
      stream.close();
      module.close();
    } finally {
      if (ownsContext) {
        context.close();
      }
    }
  }
}
