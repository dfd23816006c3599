package dev.aphelion.benchmarks.cuda;

import dev.aphelion.cuda.driver.CudaContext;
import dev.aphelion.cuda.driver.CudaDeviceInfo;
import dev.aphelion.cuda.driver.CudaDriver;
import dev.aphelion.cuda.driver.CudaEvent;
import dev.aphelion.cuda.driver.CudaGraph;
import dev.aphelion.cuda.driver.CudaStream;
import dev.aphelion.cuda.driver.DeviceBuffer;
import dev.aphelion.cuda.ternary.CudaTernaryKernels;
import dev.aphelion.cuda.ternary.FusedGemv;
import dev.aphelion.cuda.ternary.GpuTernaryLayout;
import dev.aphelion.cuda.ternary.GpuTernaryMatrix;
import dev.aphelion.cuda.ternary.Int8Kernel;
import dev.aphelion.cuda.ternary.Int8Matmul;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * Times the ternary GPU kernels against cuBLAS BF16 ({@code cublasGemmEx}, bf16 in and out,
 * float accumulation) on linear-layer shapes, the way a decoder calls them: {@code y[batch][rows]
 * = x[batch][cols] · W[rows][cols]^T}.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp ... dev.aphelion.benchmarks.cuda.CudaMatmulBenchmark \
 *     [--shapes 4096x14336,14336x4096,28672x8192] [--batches 1,8,512] [--samples 9] [--reps 20] [--csv FILE]
 * </pre>
 *
 * <p>Method: every variant is captured {@code reps} times into a CUDA graph (no host launch gaps),
 * warmed up, and replayed {@code samples} times between two CUDA events; the median per-call time
 * is reported. Weight buffers rotate among enough copies to exceed twice the L2 cache, so the
 * weights come from HBM as in a real forward pass. Weights and activations are random (never
 * zeros). "GB/s" is bytes of weights (2 bits each for ternary, 2 bytes for bf16) over time; "HBM%"
 * is that over the device's peak memory bandwidth as the driver reports it (clock and bus width); "vs cuBLAS" is cuBLAS's time over this one's. The int8
 * kernels are exact, so their outputs are compared with each other for every shape.
 */
public final class CudaMatmulBenchmark {


  private final CudaTernaryKernels k;
  private final CudaContext ctx;
  private final CudaStream s;
  private final Cublas cublas;
  private final int samples;
  private final int reps;
  private final PrintStream out = System.out;
  private final List<String> csv = new ArrayList<>();
  private final CudaEvent e0;
  private final CudaEvent e1;
  private boolean allChecksPassed = true;

  private CudaMatmulBenchmark(CudaTernaryKernels k, Cublas cublas, int samples, int reps) {
    this.k = k;
    this.ctx = k.context();
    this.s = k.stream();
    this.cublas = cublas;
    this.samples = samples;
    this.reps = reps;
    this.e0 = ctx.createEvent();
    this.e1 = ctx.createEvent();
  }

  /**
   * Runs the benchmark.
   *
   * @param args see the class comment
   * @throws Throwable on failure
   */
  public static void main(String[] args) throws Throwable {
    List<int[]> shapes = new ArrayList<>(List.of(new int[] {4096, 14336}, new int[] {14336, 4096}, new int[] {28672, 8192}));
    int[] batches = {1, 8, 512};
    int samples = 9;
    int reps = 20;
    Path csvPath = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--shapes" -> {
          shapes.clear();
          for (String sh : args[++i].split(",")) {
            String[] p = sh.split("x");
            shapes.add(new int[] {Integer.parseInt(p[0]), Integer.parseInt(p[1])});
          }
        }
        case "--batches" -> batches = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--samples" -> samples = Integer.parseInt(args[++i]);
        case "--reps" -> reps = Integer.parseInt(args[++i]);
        case "--csv" -> csvPath = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    CudaDriver.Probe probe = CudaDriver.probe();
    if (!probe.available()) {
      System.out.println("CUDA unavailable: " + probe.reason());
      System.exit(2);
    }
    List<String> tried = new ArrayList<>();
    try (CudaTernaryKernels k = CudaTernaryKernels.open(0)) {
      Cublas cublas = Cublas.open(tried).orElse(null);
      CudaDeviceInfo d = k.context().device();
      System.out.printf(Locale.ROOT, "device: %s, cc %s, %d SMs, %.1f GiB, L2 %d MiB, driver %d, date %s%n",
          d.name(), d.computeCapabilityString(), d.multiprocessors(), d.totalMemoryBytes() / (double) (1L << 30),
          d.l2CacheBytes() >> 20, probe.driverVersion(), LocalDate.now());
      System.out.printf(Locale.ROOT, "peak memory bandwidth (driver: %d kHz x %d bits, DDR): %.0f GB/s, the HBM%% column's base%n",
          d.memoryClockKhz(), d.memoryBusWidthBits(), d.peakMemoryBandwidth() / 1e9);
      if (cublas == null) {
        System.out.println("cuBLAS not found; tried: " + String.join("\n  ", tried));
      } else {
        System.out.println("cuBLAS " + cublas.version() + " from " + cublas.path());
        cublas.setStream(k.stream().nativeHandle());
      }
      DeviceBuffer workspace = k.context().allocate(64L << 20);
      if (cublas != null) {
        cublas.setWorkspace(workspace.address(), workspace.byteSize());
      }
      CudaMatmulBenchmark b = new CudaMatmulBenchmark(k, cublas, samples, reps);
      b.copyBandwidth();
      b.header();
      for (int[] shape : shapes) {
        b.shape(shape[0], shape[1], batches);
      }
      if (cublas != null) {
        cublas.close();
      }
      if (csvPath != null) {
        Files.write(csvPath, b.csv);
      }
      System.out.println(b.allChecksPassed ? "checks: all int8 kernels agreed bit for bit" : "checks: FAILED");
      if (!b.allChecksPassed) {
        System.exit(1);
      }
    }
  }

  private void copyBandwidth() {
    long bytes = 1L << 30;
    try (DeviceBuffer a = ctx.allocate(bytes); DeviceBuffer c = ctx.allocate(bytes)) {
      a.fill((byte) 7);
      c.copyFrom(a, 0, 0, bytes);
      double[] t = new double[5];
      for (int i = 0; i < t.length; i++) {
        long t0 = System.nanoTime();
        c.copyFrom(a, 0, 0, bytes);
        ctx.synchronize();
        t[i] = (System.nanoTime() - t0) / 1e9;
      }
      Arrays.sort(t);
      out.printf(Locale.ROOT, "device-to-device copy of 1 GiB: %.0f GB/s (read + write, host-timed median)%n",
          2.0 * bytes / t[2] / 1e9);
    }
  }

  private void header() {
    out.printf(Locale.ROOT, "%-12s %5s  %-30s %10s %9s %6s %9s %8s%n",
        "shape", "batch", "method", "us", "GB/s", "HBM%", "vs cuBLAS", "TOPS");
    csv.add("rows,cols,batch,method,us,weight_GBps,hbm_share,vs_cublas,tops");
  }

  private void shape(int rows, int cols, int[] batches) throws Throwable {
    Random rnd = new Random(rows * 1_000_003L + cols);
    long l2 = ctx.device().l2CacheBytes();
    int kPad = GpuTernaryLayout.paddedCols(cols);
    byte[] packed = new byte[rows * GpuTernaryLayout.tritterBytesPerRow(cols)];
    rnd.nextBytes(packed);
    int tail = cols & 3;
    int bpr = GpuTernaryLayout.tritterBytesPerRow(cols);
    for (int i = 0; i < packed.length; i++) {
      int b = packed[i] & 0xff;
      int elevens = b & (b >>> 1) & 0x55; // the invalid code 11 becomes 00 (zero): half the trits are 0
      b &= ~(elevens | (elevens << 1));
      if (tail != 0 && i % bpr == bpr - 1) {
        b &= (1 << (2 * tail)) - 1;
      }
      packed[i] = (byte) b;
    }
    float[] scales = new float[rows];
    for (int i = 0; i < rows; i++) {
      scales[i] = 0.5f + rnd.nextFloat();
    }
    long ternaryBytes = (long) rows * cols / 4;
    int tCopies = (int) Math.max(1, Math.ceil(2.0 * l2 / ternaryBytes));
    GpuTernaryMatrix[] ws = new GpuTernaryMatrix[tCopies];
    for (int i = 0; i < tCopies; i++) {
      ws[i] = k.upload(packed, scales, rows, cols);
    }
    long bfBytes = 2L * rows * cols;
    int bCopies = cublas == null ? 0 : (int) Math.max(1, Math.ceil(2.0 * l2 / bfBytes));
    DeviceBuffer[] wbf = new DeviceBuffer[bCopies];
    for (int i = 0; i < bCopies; i++) {
      wbf[i] = randomBf16(rnd, (long) rows * cols);
    }
    try {
      for (int batch : batches) {
        batch(rows, cols, kPad, batch, rnd, ws, wbf, ternaryBytes, bfBytes);
      }
    } finally {
      for (GpuTernaryMatrix w : ws) {
        w.close();
      }
      for (DeviceBuffer w : wbf) {
        w.close();
      }
    }
  }

  private void batch(int rows, int cols, int kPad, int batch, Random rnd, GpuTernaryMatrix[] ws, DeviceBuffer[] wbf,
      long ternaryBytes, long bfBytes) throws Throwable {
    String shape = rows + "x" + cols;
    double ops = 2.0 * batch * rows * cols;
    float[] x = new float[batch * kPad];
    short[] xb = new short[batch * kPad];
    short[] xbDense = new short[batch * cols];
    for (int t = 0; t < batch; t++) {
      for (int c = 0; c < cols; c++) {
        float v = (float) rnd.nextGaussian();
        short h = (short) (Float.floatToRawIntBits(v) >>> 16);
        x[t * kPad + c] = Float.intBitsToFloat(h << 16);
        xb[t * kPad + c] = h;
        xbDense[t * cols + c] = h;
      }
    }
    try (DeviceBuffer xd = ctx.allocate(4L * x.length);
        DeviceBuffer xbd = ctx.allocate(2L * xb.length);
        DeviceBuffer xbDenseD = ctx.allocate(2L * xbDense.length);
        DeviceBuffer y = ctx.allocate(4L * batch * rows);
        DeviceBuffer y2 = ctx.allocate(4L * batch * rows);
        DeviceBuffer ybf = ctx.allocate(2L * batch * rows)) {
      xd.write(x, 0);
      xbd.write(xb, 0);
      xbDenseD.write(xbDense, 0);

      double cublasUs = Double.NaN;
      if (cublas != null) {
        cublasUs = time(r -> {
          try {
            cublas.linearBf16(wbf[r % wbf.length].address(), xbDenseD.address(), ybf.address(), rows, batch, cols);
          } catch (Throwable t) {
            throw new IllegalStateException(t);
          }
        });
        row(shape, batch, "cuBLAS bf16 (GemmEx, f32 acc)", cublasUs, bfBytes, ops, cublasUs);
      }

      List<Int8Kernel> variants = new ArrayList<>();
      variants.add(Int8Kernel.AUTO);
      if (batch == 1) {
        variants.add(Int8Kernel.SKINNY);
        if (cols <= k.fusedMaxCols()) {
          variants.add(Int8Kernel.GEMV_WIDE);
        }
      } else if (batch <= 64) {
        variants.add(Int8Kernel.GEMV);
      } else {
        for (Int8Kernel v : new Int8Kernel[] {Int8Kernel.WG_128X256, Int8Kernel.WG_256X128, Int8Kernel.WG_128X128,
            Int8Kernel.TC_128X256, Int8Kernel.TC_128X256S4, Int8Kernel.TC_256X128, Int8Kernel.TC_128X128, Int8Kernel.SKINNY}) {
          if (k.supports(v)) {
            variants.add(v);
          }
        }
      }
      float[] reference = null;
      for (Int8Kernel v : variants) {
        Int8Matmul[] mm = new Int8Matmul[ws.length];
        try {
          for (int i = 0; i < ws.length; i++) {
            mm[i] = k.prepareInt8(ws[i], batch, v);
            mm[i].quantize(xd, kPad);
          }
          String name = "W1.58A8 " + mm[0].kernel().name().toLowerCase(Locale.ROOT);
          if (v == Int8Kernel.AUTO) {
            double full = time(r -> {
              Int8Matmul m = mm[r % mm.length];
              m.quantize(xd, kPad);
              m.multiply(y, rows);
            });
            row(shape, batch, name.replace("W1.58A8 ", "W1.58A8 quant+") + " (auto)", full, ternaryBytes, ops, cublasUs);
            double quant = time(r -> mm[r % mm.length].quantize(xd, kPad));
            row(shape, batch, "W1.58A8 activation quantization only", quant, ternaryBytes, ops, cublasUs);
            if (batch == 1 && cols <= k.fusedMaxCols()) {
              // Quantization as the GEMV's prologue (one kernel); grid capped at 2, 4, 8 blocks per SM.
              for (int perSm : new int[] {4, 2, 8}) {
                double fused = time(r -> k.normQuantizeMultiply(null, 0f, new GpuTernaryMatrix[] {ws[r % ws.length]}, null, xd, kPad,
                    1, new DeviceBuffer[] {y}, new int[] {rows}, null, 0, null, perSm, FusedGemv.PER_BLOCK));
                row(shape, batch, "W1.58A8 fused quant+gemv, " + perSm + " blocks/SM" + (perSm == 4 ? " (default)" : ""), fused,
                    ternaryBytes, ops, cublasUs);
                k.normQuantizeMultiply(null, 0f, new GpuTernaryMatrix[] {ws[0]}, null, xd, kPad, 1, new DeviceBuffer[] {y2},
                    new int[] {rows}, null, 0, null, perSm, FusedGemv.PER_BLOCK);
                mm[0].quantize(xd, kPad);
                mm[0].multiply(y, rows);
                s.synchronize();
                float[] a = new float[rows];
                float[] b = new float[rows];
                y.read(a, 0);
                y2.read(b, 0);
                if (!Arrays.equals(a, b)) {
                  allChecksPassed = false;
                  out.println("  CHECK FAILED: fused quant+gemv (" + perSm + " blocks/SM) differs from quantize + gemv");
                }
              }
            }
          }
          if (v == Int8Kernel.GEMV_WIDE) {
            double full = time(r -> {
              Int8Matmul m = mm[r % mm.length];
              m.quantize(xd, kPad);
              m.multiply(y, rows);
            });
            row(shape, batch, "W1.58A8 quant+gemv_wide", full, ternaryBytes, ops, cublasUs);
          }
          if (v == Int8Kernel.AUTO && batch == 1 && k.clusterKernelAvailable() && cols <= k.fusedMaxCols() && cols % 4 == 0) {
            // Quantization shared by clusters of 8 blocks (one kernel); grid sized for 3, 2, 1 blocks per SM.
            for (int perSm : new int[] {3, 2, 1}) {
              double cl = time(r -> k.normQuantizeMultiply(null, 0f, new GpuTernaryMatrix[] {ws[r % ws.length]}, null, xd, kPad, 1,
                  new DeviceBuffer[] {y}, new int[] {rows}, null, 0, null, perSm, FusedGemv.CLUSTER));
              row(shape, batch, "W1.58A8 cluster quant+gemv, " + perSm + " blocks/SM" + (perSm == 3 ? " (default)" : ""), cl,
                  ternaryBytes, ops, cublasUs);
              k.normQuantizeMultiply(null, 0f, new GpuTernaryMatrix[] {ws[0]}, null, xd, kPad, 1, new DeviceBuffer[] {y2},
                  new int[] {rows}, null, 0, null, perSm, FusedGemv.CLUSTER);
              mm[0].quantize(xd, kPad);
              mm[0].multiply(y, rows);
              s.synchronize();
              float[] a = new float[rows];
              float[] b = new float[rows];
              y.read(a, 0);
              y2.read(b, 0);
              if (!Arrays.equals(a, b)) {
                allChecksPassed = false;
                out.println("  CHECK FAILED: cluster quant+gemv (" + perSm + " blocks/SM) differs from quantize + gemv");
              }
            }
          }
          double us = time(r -> mm[r % mm.length].multiply(y, rows));
          row(shape, batch, name + (v == Int8Kernel.AUTO ? " (auto)" : ""), us, ternaryBytes, ops, cublasUs);
          // Exactness across kernels on the big shapes: every int8 kernel must give the same bits.
          mm[0].multiply(y2, rows);
          s.synchronize();
          float[] got = new float[batch * rows];
          y2.read(got, 0);
          if (reference == null) {
            reference = got;
          } else if (!Arrays.equals(reference, got)) {
            allChecksPassed = false;
            out.println("  CHECK FAILED: " + name + " differs from the first int8 kernel");
          }
        } finally {
          for (Int8Matmul m : mm) {
            if (m != null) {
              m.close();
            }
          }
        }
      }
      if (batch <= 64) {
        double f32 = time(r -> k.matmul(ws[r % ws.length], xd, kPad, batch, y, rows));
        row(shape, batch, "ternary f32 activations", f32, ternaryBytes, ops, cublasUs);
        double bf = time(r -> k.matmulBf16(ws[r % ws.length], xbd, kPad, batch, y, rows));
        row(shape, batch, "ternary bf16 activations", bf, ternaryBytes, ops, cublasUs);
      }
    }
  }

  private DeviceBuffer randomBf16(Random rnd, long count) {
    DeviceBuffer b = ctx.allocate(2 * count);
    int block = (int) Math.min(count, 8L << 20);
    short[] h = new short[block];
    for (int i = 0; i < block; i++) {
      h[i] = (short) (Float.floatToRawIntBits((float) rnd.nextGaussian() * 0.02f) >>> 16);
    }
    DeviceBuffer src = ctx.allocate(2L * block);
    try {
      src.write(h, 0);
      for (long off = 0; off < count; off += block) {
        long n = Math.min(block, count - off);
        b.copyFrom(src, 0, 2 * off, 2 * n);
      }
    } finally {
      src.close();
    }
    return b;
  }

  /** Median microseconds per call of {@code launch}, replayed from a graph of {@code reps} calls. */
  private double time(IntConsumer launch) {
    for (int i = 0; i < 3; i++) {
      launch.accept(i);
    }
    s.synchronize();
    try {
      return timeGraph(launch);
    } catch (RuntimeException e) {
      out.println("  (graph capture failed, timing direct launches: " + e.getMessage() + ")");
      s.synchronize();
      double[] t = new double[samples];
      for (int i = 0; i < samples; i++) {
        e0.record(s);
        for (int r = 0; r < reps; r++) {
          launch.accept(r);
        }
        e1.record(s);
        t[i] = e1.elapsedMillisSince(e0) * 1000.0 / reps;
      }
      Arrays.sort(t);
      return t[samples / 2];
    }
  }

  private double timeGraph(IntConsumer launch) {
    try (CudaGraph g = ctx.capture(s, () -> {
      for (int r = 0; r < reps; r++) {
        launch.accept(r);
      }
    })) {
      g.launch(s);
      g.launch(s);
      double[] t = new double[samples];
      for (int i = 0; i < samples; i++) {
        e0.record(s);
        g.launch(s);
        e1.record(s);
        t[i] = e1.elapsedMillisSince(e0) * 1000.0 / reps;
      }
      Arrays.sort(t);
      return t[samples / 2];
    }
  }

  private void row(String shape, int batch, String method, double us, long weightBytes, double ops, double cublasUs) {
    double gbps = weightBytes / (us * 1e-6) / 1e9;
    double share = 100.0 * gbps / (k.context().device().peakMemoryBandwidth() / 1e9);
    double ratio = cublasUs / us;
    double tops = ops / (us * 1e-6) / 1e12;
    out.printf(Locale.ROOT, "%-12s %5d  %-30s %10.1f %9.0f %5.1f%% %8.2fx %8.1f%n",
        shape, batch, method, us, gbps, share, ratio, tops);
    String[] p = shape.split("x");
    csv.add(String.format(Locale.ROOT, "%s,%s,%d,\"%s\",%.2f,%.1f,%.4f,%.3f,%.2f",
        p[0], p[1], batch, method, us, gbps, share / 100, ratio, tops));
  }
}
