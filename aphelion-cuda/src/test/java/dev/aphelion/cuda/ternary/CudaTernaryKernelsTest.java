package dev.aphelion.cuda.ternary;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.BackendException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.cuda.driver.CudaContext;
import dev.aphelion.cuda.driver.DeviceBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** GPU results against the scalar references on odd shapes; skipped without a usable GPU. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaTernaryKernelsTest {

  private CudaTernaryKernels k;
  private int baseline;

  @BeforeAll
  void open() {
    if (dev.aphelion.cuda.driver.CudaDriver.probe().available()) {
      k = CudaTernaryKernels.open(0);
      baseline = k.context().liveResources();
    }
  }

  @AfterAll
  void close() {
    if (k != null) {
      CudaContext ctx = k.context();
      assertEquals(baseline, ctx.liveResources(), "a test leaked device resources");
      k.close();
      assertTrue(ctx.isClosed());
    }
  }

  static byte[] randomPacked(Random rnd, int rows, int cols) {
    return GpuTernaryLayoutTest.randomPacked(rnd, rows, cols);
  }

  static float[] randomScales(Random rnd, int rows) {
    float[] s = new float[rows];
    for (int i = 0; i < rows; i++) {
      s[i] = 0.01f + rnd.nextFloat();
    }
    return s;
  }

  /** Gaussian activations with occasional outliers, and an all-zero token where batch > 2. */
  static float[] randomActivations(Random rnd, int batch, int cols) {
    float[] x = new float[batch * cols];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian() * (rnd.nextInt(50) == 0 ? 20f : 1f);
    }
    if (batch > 2) {
      java.util.Arrays.fill(x, cols, 2 * cols, 0f);
    }
    return x;
  }

  @ParameterizedTest
  @CsvSource({"1,1", "3,17", "17,63", "16,64", "8,65", "63,256", "65,257", "33,1021"})
  void uploadMatchesTheJavaLayout(int rows, int cols) {
    GpuTest.assumeGpu();
    Random rnd = new Random(rows * 131L + cols);
    byte[] packed = randomPacked(rnd, rows, cols);
    float[] scales = randomScales(rnd, rows);
    try (GpuTernaryMatrix w = k.upload(packed, scales, rows, cols)) {
      int[] words = new int[(int) GpuTernaryLayout.wordCount(rows, cols)];
      w.words().read(words, 0);
      assertArrayEquals(GpuTernaryLayout.fromTritter(packed, rows, cols), words);
      assertArrayEquals(packed, w.toTritterBytes());
      assertArrayEquals(scales, w.rowScales());
    }
  }

  @ParameterizedTest
  @CsvSource({"1,1", "3,17", "17,63", "33,64", "8,65", "64,300", "257,1021", "5,4099"})
  void absmeanMatchesTheCpuBitForBit(int rows, int cols) {
    GpuTest.assumeGpu();
    Random rnd = new Random(rows * 977L + cols);
    float[] w = new float[rows * cols];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) rnd.nextGaussian() * 0.02f;
    }
    if (rows > 2) {
      java.util.Arrays.fill(w, cols, 2 * cols, 0f); // an all-zero row: scale 1.0
    }
    Object[] ref = ScalarReference.absmean(w, rows, cols);
    try (GpuTernaryMatrix q = k.quantizeAbsmean(w, rows, cols)) {
      assertArrayEquals((float[]) ref[1], q.rowScales());
      assertArrayEquals((byte[]) ref[0], q.toTritterBytes());
    }
  }

  @Test
  void absmeanTiesRoundAwayFromZero() {
    GpuTest.assumeGpu();
    // seed-semantics §3: [[-0.5, 3.5, 0, 0]] -> scale 1.0, [-1, 1, 0, 0]; and the derived vectors.
    try (GpuTernaryMatrix q = k.quantizeAbsmean(new float[] {-0.5f, 3.5f, 0f, 0f}, 1, 4)) {
      assertArrayEquals(new float[] {1f}, q.rowScales());
      assertArrayEquals(ScalarReference.pack(new byte[] {-1, 1, 0, 0}, 1, 4), q.toTritterBytes());
    }
    float[] w = {0.5f, -0.3f, 0.1f, 0.8f, -0.2f, 0.6f, -0.7f, 0.4f};
    try (GpuTernaryMatrix q = k.quantizeAbsmean(w, 2, 4)) {
      assertArrayEquals(new float[] {0.425f, 0.475f}, q.rowScales());
      assertArrayEquals(ScalarReference.pack(new byte[] {1, -1, 0, 1, 0, 1, -1, 1}, 2, 4), q.toTritterBytes());
    }
  }

  @ParameterizedTest
  @CsvSource({"1,1", "1,4", "3,17", "2,63", "5,257", "9,1021", "130,300", "5,8", "3,1024", "4,4100",
      "3,16384", "3,16388"})
  void activationQuantizationMatchesTheCpu(int batch, int cols) {
    GpuTest.assumeGpu();
    Random rnd = new Random(batch * 1009L + cols);
    float[] x = randomActivations(rnd, batch, cols);
    if (cols == 4) {
      x = new float[] {1f, -2f, 0.5f, 0f}; // seed-semantics §3: scale 0.015748031, q [64,-127,32,0]
    }
    QuantizedActivations g = k.quantizeActivations(x, batch, cols);
    byte[] q = new byte[batch * cols];
    for (int t = 0; t < batch; t++) {
      float s = ScalarReference.quantizeToken(x, t * cols, cols, q, t * cols);
      assertEquals(s, g.scales()[t], "scale of token " + t);
      int sum = 0;
      for (int c = 0; c < cols; c++) {
        sum += q[t * cols + c];
      }
      assertEquals(sum, g.sums()[t], "sum of token " + t);
    }
    assertArrayEquals(q, g.values());
    if (cols == 4) {
      assertArrayEquals(new byte[] {64, -127, 32, 0}, g.values());
      assertEquals(0.015748031f, g.scales()[0]);
    }
  }

  /** Bfloat16 activations through both quantizer kernels (cols % 4 == 0 takes the single pass). */
  @ParameterizedTest
  @CsvSource({"3,17", "3,64", "4,1021", "3,4096", "2,16388"})
  void bf16ActivationQuantizationMatchesTheCpu(int batch, int cols) {
    GpuTest.assumeGpu();
    Random rnd = new Random(batch * 7L + cols);
    float[] x = randomActivations(rnd, batch, cols);
    short[] xb = new short[x.length];
    for (int i = 0; i < x.length; i++) {
      xb[i] = (short) (Float.floatToRawIntBits(x[i]) >>> 16);
      x[i] = Float.intBitsToFloat(xb[i] << 16); // bf16 -> float is exact
    }
    try (GpuTernaryMatrix shape = k.upload(new byte[16 * GpuTernaryLayout.tritterBytesPerRow(cols)], new float[16], 16, cols);
        Int8Matmul mm = k.prepareInt8(shape, batch, Int8Kernel.GEMV);
        DeviceBuffer xd = k.context().allocate(2L * xb.length)) {
      xd.write(xb, 0);
      mm.quantizeBf16(xd, cols);
      QuantizedActivations g = mm.readQuantized();
      byte[] q = new byte[batch * cols];
      for (int t = 0; t < batch; t++) {
        float s = ScalarReference.quantizeToken(x, t * cols, cols, q, t * cols);
        assertEquals(s, g.scales()[t], "scale of token " + t);
        int sum = 0;
        for (int c = 0; c < cols; c++) {
          sum += q[t * cols + c];
        }
        assertEquals(sum, g.sums()[t], "sum of token " + t);
      }
      assertArrayEquals(q, g.values());
    }
  }

  static Stream<Arguments> int8Cases() {
    int[][] shapes = {
      {1, 1, 1}, {3, 17, 1}, {17, 63, 2}, {63, 64, 3}, {64, 65, 8}, {65, 1021, 9},
      {2, 5, 17}, {130, 257, 33}, {16, 512, 64}, {40, 260, 65}, {20, 100, 130}, {257, 300, 129}, {33, 513, 200}, {520, 1024, 260}
    };
    List<Arguments> out = new ArrayList<>();
    for (Int8Kernel kernel : Int8Kernel.values()) {
      for (int[] s : shapes) {
        out.add(Arguments.of(kernel, s[0], s[1], s[2]));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1}x{2} batch {3}")
  @MethodSource("int8Cases")
  void int8MatmulIsExact(Int8Kernel kernel, int rows, int cols, int batch) {
    GpuTest.assumeGpu();
    org.junit.jupiter.api.Assumptions.assumeTrue(k.supports(kernel), kernel + " needs more shared memory");
    Random rnd = new Random(rows * 31L + cols * 17L + batch);
    byte[] packed = randomPacked(rnd, rows, cols);
    float[] scales = randomScales(rnd, rows);
    float[] x = randomActivations(rnd, batch, cols);
    float[] expect = ScalarReference.matmulInt8(packed, scales, rows, cols, x, batch);
    try (GpuTernaryMatrix w = k.upload(packed, scales, rows, cols)) {
      float[] y = k.matmulInt8(w, x, batch, kernel);
      for (int i = 0; i < y.length; i++) {
        if (y[i] != expect[i]) {
          throw new AssertionError(kernel + ": y[token " + i / rows + "][row " + i % rows + "] = " + y[i]
              + ", expected " + expect[i]);
        }
      }
    }
  }

  /**
   * The fused quantization + GEMV against the scalar reference, bit for bit: one to three
   * matrices (odd row counts, so the last 8-row group is partial), all three prologues (widths
   * up to 8192 held in registers, 16388 read twice, widths that are not a multiple of 4 read
   * element by element), widths not a multiple of 256, an all-zero token, outliers, biases, a residual, two
   * rows, the grid capped at one block per SM (many groups per block), and the int8 row it keeps
   * (multiplied again by the unfused GEMV).
   */
  /**
   * The RMSNorm in the fused kernel's prologue against a scalar norm, quantization and GEMV, bit
   * for bit: the inputs are small integers, so the sum of squares is exact in any order and the
   * norm's factor is the same however the kernel sums (every prologue path: 63 and 4099 columns
   * take the scalar loads, 16388 the two-pass vector loads, the others the registers).
   */
  @ParameterizedTest(name = "rows {0} cols {1} batch {2} {3}")
  @CsvSource({"17,63,1,PER_BLOCK", "2560:640:640,2560,1,PER_BLOCK", "2560,6912,1,PER_BLOCK", "33,4099,2,PER_BLOCK",
      "8,16388,1,PER_BLOCK", "9:23,256,3,PER_BLOCK", "2560:640:640,2560,1,CLUSTER", "2560,6912,1,CLUSTER", "8,16388,1,CLUSTER",
      "9:23,256,3,CLUSTER", "5,12,2,CLUSTER"})
  void fusedNormQuantizeMultiplyIsExact(String rowList, int cols, int batch, FusedGemv kernel) {
    GpuTest.assumeGpu();
    assumeKernel(kernel);
    String[] parts = rowList.split(":");
    int n = parts.length;
    Random rnd = new Random(cols * 11L + n + batch);
    float[] x = new float[batch * cols];
    for (int i = 0; i < x.length; i++) {
      x[i] = rnd.nextInt(17) - 8;
    }
    float[] gain = randomActivations(rnd, 1, cols);
    float eps = 1e-5f;
    float[] xn = new float[x.length];
    for (int t = 0; t < batch; t++) {
      float ss = 0f;
      for (int i = 0; i < cols; i++) {
        ss += x[t * cols + i] * x[t * cols + i];
      }
      float inv = (float) (1.0 / Math.sqrt(ss / cols + eps));
      for (int i = 0; i < cols; i++) {
        xn[t * cols + i] = x[t * cols + i] * inv * gain[i];
      }
    }
    GpuTernaryMatrix[] ws = new GpuTernaryMatrix[n];
    DeviceBuffer[] ys = new DeviceBuffer[n];
    float[][] expect = new float[n][];
    try (DeviceBuffer xd = k.context().allocate(4L * x.length);
        DeviceBuffer gd = k.context().allocate(4L * cols);
        DeviceBuffer tiny = k.context().allocate(4)) {
      xd.write(x, 0);
      gd.write(gain, 0);
      for (int i = 0; i < n; i++) {
        int rows = Integer.parseInt(parts[i]);
        byte[] packed = randomPacked(rnd, rows, cols);
        float[] scales = randomScales(rnd, rows);
        ws[i] = k.upload(packed, scales, rows, cols);
        ys[i] = k.context().allocate(4L * batch * rows);
        expect[i] = ScalarReference.matmulInt8(packed, scales, rows, cols, xn, batch);
      }
      int[] ld = new int[n];
      for (int i = 0; i < n; i++) {
        ld[i] = ws[i].rows();
      }
      k.normQuantizeMultiply(gd, eps, ws, null, xd, cols, batch, ys, ld, null, 0, null, 0, kernel);
      k.stream().synchronize();
      float[] back = new float[x.length];
      xd.read(back, 0);
      assertArrayEquals(x, back, "the input is not written");
      for (int i = 0; i < n; i++) {
        float[] y = new float[batch * ws[i].rows()];
        ys[i].read(y, 0);
        for (int j = 0; j < y.length; j++) {
          assertEquals(Float.floatToIntBits(expect[i][j]), Float.floatToIntBits(y[j]), "matrix " + i + " y[" + j + "]: " + y[j]
              + ", expected " + expect[i][j]);
        }
      }
      assertThrows(ShapeException.class, () -> k.normQuantizeMultiply(tiny, eps, ws, null, xd, cols, batch, ys, ld, null, 0,
          null, 0), "a gain shorter than the columns");
      assertThrows(IllegalArgumentException.class, () -> k.normQuantizeMultiply(gd, Float.NaN, ws, null, xd, cols, batch, ys,
          ld, null, 0, null, 0));
    } finally {
      for (int i = 0; i < n; i++) {
        if (ys[i] != null) {
          ys[i].close();
        }
        if (ws[i] != null) {
          ws[i].close();
        }
      }
    }
  }

  /**
   * The wide GEMV on the shapes the small int8 cases miss: more row groups than resident blocks
   * (a block takes several groups, loading the next one's weights early) and more than 64 k
   * blocks (several load rounds per group).
   */
  @ParameterizedTest(name = "rows {0} cols {1} batch {2}")
  @CsvSource({"9000,1000,1", "4100,20000,1", "1027,16388,2", "3,8,3"})
  void wideGemvIsExactOnLongAndTallShapes(int rows, int cols, int batch) {
    GpuTest.assumeGpu();
    Random rnd = new Random(rows * 31L + cols);
    byte[] packed = randomPacked(rnd, rows, cols);
    float[] scales = randomScales(rnd, rows);
    float[] x = randomActivations(rnd, batch, cols);
    try (GpuTernaryMatrix w = k.upload(packed, scales, rows, cols)) {
      float[] got = k.matmulInt8(w, x, batch, Int8Kernel.GEMV_WIDE);
      assertBitsEqual(ScalarReference.matmulInt8(packed, scales, rows, cols, x, batch), got, "GEMV_WIDE");
    }
  }

  /** The cluster kernel's own preconditions, and its refusal where it cannot run. */
  @Test
  void clusterKernelRejectsWhatItCannotTake() {
    GpuTest.assumeGpu();
    try (GpuTernaryMatrix w = k.upload(randomPacked(new Random(3), 16, 63), new float[16], 16, 63);
        DeviceBuffer x = k.context().allocate(4L * 64);
        DeviceBuffer y = k.context().allocate(4L * 16)) {
      BackendException e = assertThrows(BackendException.class, () -> k.normQuantizeMultiply(null, 0f,
          new GpuTernaryMatrix[] {w}, null, x, 63, 1, new DeviceBuffer[] {y}, new int[] {16}, null, 0, null, 0, FusedGemv.CLUSTER));
      assertTrue(e.getMessage().contains(k.clusterKernelAvailable() ? "multiple of 4" : "compute capability 9.0"),
          e.getMessage());
      // AUTO falls back to the per-block kernel for such a shape.
      k.normQuantizeMultiply(null, 0f, new GpuTernaryMatrix[] {w}, null, x, 63, 1, new DeviceBuffer[] {y}, new int[] {16}, null, 0,
          null, 0, FusedGemv.AUTO);
      k.stream().synchronize();
    }
  }

  private void assumeKernel(FusedGemv kernel) {
    org.junit.jupiter.api.Assumptions.assumeTrue(kernel != FusedGemv.CLUSTER || k.clusterKernelAvailable(),
        "the cluster kernel needs compute capability 9.0");
  }

  private static void assertBitsEqual(float[] expect, float[] got, String what) {
    assertEquals(expect.length, got.length, what + ": length");
    for (int i = 0; i < expect.length; i++) {
      if (Float.floatToIntBits(expect[i]) != Float.floatToIntBits(got[i])) {
        throw new AssertionError(what + ": y[" + i + "] = " + got[i] + ", expected " + expect[i]);
      }
    }
  }

  @ParameterizedTest(name = "rows {0} cols {1} batch {2} blocks/SM {3} {4}")
  @CsvSource({"1,1,1,0,PER_BLOCK", "17,63,1,0,PER_BLOCK", "9:23,257,1,0,PER_BLOCK", "130:7:65,1021,1,1,PER_BLOCK",
      "2560:640:640,2560,1,0,PER_BLOCK", "33,4099,2,0,PER_BLOCK", "300:301,6912,1,2,PER_BLOCK", "8,16388,1,1,PER_BLOCK",
      "1,4,1,0,CLUSTER", "9:23,260,1,0,CLUSTER", "130:7:65,1024,1,1,CLUSTER", "2560:640:640,2560,1,0,CLUSTER",
      "33,4100,2,0,CLUSTER", "300:301,6912,1,2,CLUSTER", "4100,6912,1,1,CLUSTER", "8,16388,1,1,CLUSTER",
      "2049,14336,1,0,CLUSTER", "17,63,1,0,AUTO", "2560,2560,1,0,AUTO"})
  void fusedQuantizeMultiplyIsExact(String rowList, int cols, int batch, int blocksPerSm, FusedGemv kernel) {
    GpuTest.assumeGpu();
    assumeKernel(kernel);
    String[] parts = rowList.split(":");
    int n = parts.length;
    Random rnd = new Random(cols * 7L + n + batch);
    float[] x = randomActivations(rnd, batch, cols);
    if (cols == 257) {
      java.util.Arrays.fill(x, 0f);
    }
    GpuTernaryMatrix[] ws = new GpuTernaryMatrix[n];
    DeviceBuffer[] ys = new DeviceBuffer[n];
    DeviceBuffer[] bs = new DeviceBuffer[n];
    int[] ld = new int[n];
    float[][] expect = new float[n][];
    float[][] bias = new float[n][];
    byte[][] packed = new byte[n][];
    float[][] scales = new float[n][];
    try (DeviceBuffer xd = k.context().allocate(4L * x.length);
        DeviceBuffer res = k.context().allocate(4L * batch * Integer.parseInt(parts[0]));
        Int8Input keep = k.allocateInput(cols, 1)) {
      xd.write(x, 0);
      for (int i = 0; i < n; i++) {
        int rows = Integer.parseInt(parts[i]);
        packed[i] = randomPacked(rnd, rows, cols);
        scales[i] = randomScales(rnd, rows);
        ws[i] = k.upload(packed[i], scales[i], rows, cols);
        ld[i] = rows + (i == 1 ? 3 : 0);
        ys[i] = k.context().allocate(4L * batch * ld[i]);
        expect[i] = ScalarReference.matmulInt8(packed[i], scales[i], rows, cols, x, batch);
        if (i != 1) {
          bias[i] = randomScales(rnd, rows);
          bs[i] = k.context().allocate(4L * rows);
          bs[i].write(bias[i], 0);
        }
      }
      float[] r0 = randomActivations(rnd, batch, ws[0].rows());
      res.write(r0, 0);
      boolean withResidual = n == 1;
      boolean withKeep = batch == 1;
      k.normQuantizeMultiply(null, 0f, ws, bs, xd, cols, batch, ys, ld, withResidual ? res : null, ws[0].rows(),
          withKeep ? keep : null, blocksPerSm, kernel);
      for (int i = 0; i < n; i++) {
        int rows = ws[i].rows();
        float[] y = new float[batch * ld[i]];
        k.stream().synchronize();
        ys[i].read(y, 0);
        for (int t = 0; t < batch; t++) {
          for (int r = 0; r < rows; r++) {
            float e = expect[i][t * rows + r];
            if (bias[i] != null) {
              e = e + bias[i][r];
            }
            if (Float.floatToIntBits(y[t * ld[i] + r]) != Float.floatToIntBits(e)) {
              throw new AssertionError("matrix " + i + ": y[token " + t + "][row " + r + "] = " + y[t * ld[i] + r] + ", expected " + e);
            }
          }
        }
        if (i == 0 && withResidual) {
          float[] got = new float[r0.length];
          res.read(got, 0);
          for (int j = 0; j < r0.length; j++) {
            float e = r0[j] + y[(j / rows) * ld[0] + j % rows];
            assertEquals(Float.floatToIntBits(e), Float.floatToIntBits(got[j]), "residual " + j);
          }
        }
      }
      if (withKeep) {
        // The kept row, multiplied by the unfused GEMV, gives the reference again.
        try (DeviceBuffer y2 = k.context().allocate(4L * ws[0].rows())) {
          assertEquals(1, keep.batch());
          k.multiply(ws[0], keep, y2, ws[0].rows());
          float[] got = new float[ws[0].rows()];
          k.stream().synchronize();
          y2.read(got, 0);
          assertArrayEquals(expect[0], got);
        }
      }
    } finally {
      for (int i = 0; i < n; i++) {
        if (ws[i] != null) {
          ws[i].close();
        }
        if (ys[i] != null) {
          ys[i].close();
        }
        if (bs[i] != null) {
          bs[i].close();
        }
      }
    }
  }

  @Test
  void fusedQuantizeMultiplyRejectsBadShapes() {
    GpuTest.assumeGpu();
    Random rnd = new Random(3);
    try (GpuTernaryMatrix a = k.upload(randomPacked(rnd, 8, 64), randomScales(rnd, 8), 8, 64);
        GpuTernaryMatrix b = k.upload(randomPacked(rnd, 8, 65), randomScales(rnd, 8), 8, 65);
        DeviceBuffer x = k.context().allocate(4L * 65);
        DeviceBuffer y = k.context().allocate(4L * 8);
        DeviceBuffer small = k.context().allocate(4L * 7)) {
      ShapeException e = assertThrows(ShapeException.class, () -> k.quantizeMultiply(new GpuTernaryMatrix[] {a, b}, null, x, 65, 1,
          new DeviceBuffer[] {y, y}, new int[] {8, 8}, null, 0, null, 0));
      assertTrue(e.getMessage().contains("columns"), e.getMessage());
      assertThrows(ShapeException.class, () -> k.quantizeMultiply(a, x, small));
      assertThrows(ShapeException.class, () -> k.quantizeMultiply(new GpuTernaryMatrix[] {a, a}, null, x, 64, 1,
          new DeviceBuffer[] {y, y}, new int[] {8, 8}, y, 8, null, 0));
      assertThrows(ShapeException.class, () -> k.quantizeMultiply(new GpuTernaryMatrix[] {a, a, a, a}, null, x, 64, 1,
          new DeviceBuffer[] {y, y, y, y}, new int[] {8, 8, 8, 8}, null, 0, null, 0));
      assertThrows(ShapeException.class, () -> k.quantizeMultiply(new GpuTernaryMatrix[] {a}, null, small, 64, 1,
          new DeviceBuffer[] {y}, new int[] {8}, null, 0, null, 0));
    }
  }

  @ParameterizedTest
  @CsvSource({"1,1,1", "3,17,2", "17,63,5", "64,65,8", "65,1021,9", "130,257,3", "33,300,17"})
  void floatMatmulIsWithinTheStatedBound(int rows, int cols, int batch) {
    GpuTest.assumeGpu();
    Random rnd = new Random(rows * 5L + cols * 3L + batch);
    byte[] packed = randomPacked(rnd, rows, cols);
    float[] scales = randomScales(rnd, rows);
    float[] x = randomActivations(rnd, batch, cols);
    double[][] ref = ScalarReference.matmulFloat(packed, scales, rows, cols, x, batch);
    short[] xb = new short[x.length];
    float[] xr = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      xb[i] = (short) (Float.floatToRawIntBits(x[i]) >>> 16); // truncation keeps the values exact below
      xr[i] = Float.intBitsToFloat(xb[i] << 16);
    }
    double[][] refB = ScalarReference.matmulFloat(packed, scales, rows, cols, xr, batch);
    try (GpuTernaryMatrix w = k.upload(packed, scales, rows, cols)) {
      float[] y = k.matmul(w, x, batch);
      float[] yb = k.matmulBf16(w, xb, batch);
      for (int i = 0; i < y.length; i++) {
        double err = Math.abs(y[i] - ref[0][i]);
        assertTrue(err <= ref[1][i], "f32 y[" + i + "] = " + y[i] + ", ref " + ref[0][i] + ", bound " + ref[1][i]);
        double errB = Math.abs(yb[i] - refB[0][i]);
        assertTrue(errB <= refB[1][i], "bf16 y[" + i + "] = " + yb[i] + ", ref " + refB[0][i]);
      }
    }
  }

  @Test
  void autoChoosesByBatch() {
    GpuTest.assumeGpu();
    try (GpuTernaryMatrix w = k.upload(new byte[256 * 64], new float[256], 256, 256)) {
      assertEquals(Int8Kernel.GEMV, k.choose(w, 1));
      assertEquals(Int8Kernel.SKINNY, k.choose(w, 64));
      assertTrue(k.choose(w, 512).tiled());
    }
  }

  @Test
  void rejectsBadInputAndClosedObjects() {
    GpuTest.assumeGpu();
    assertThrows(ShapeException.class, () -> k.upload(new byte[3], new float[1], 1, 17));
    assertThrows(ShapeException.class, () -> k.upload(new byte[5], new float[] {Float.NaN}, 1, 17));
    assertThrows(ShapeException.class, () -> k.quantizeAbsmean(new float[] {1f, Float.POSITIVE_INFINITY}, 1, 2));
    GpuTernaryMatrix w = k.upload(new byte[5], new float[] {1f}, 1, 17);
    assertThrows(ShapeException.class, () -> k.matmul(w, new float[16], 1));
    assertThrows(ShapeException.class, () -> k.matmulInt8(w, new float[] {Float.NaN, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 1));
    w.close();
    assertThrows(IllegalStateException.class, w::rowScales);
    assertThrows(IllegalStateException.class, () -> k.matmul(w, new float[17], 1));
  }

  @Test
  void buffersAreFreedAndMemoryReturns() {
    GpuTest.assumeGpu();
    CudaContext ctx = k.context();
    int before = ctx.liveResources();
    long freeBefore = ctx.memoryInfo()[0];
    for (int i = 0; i < 20; i++) {
      try (DeviceBuffer b = ctx.allocate(64L << 20)) {
        b.fill((byte) 1);
      }
    }
    assertEquals(before, ctx.liveResources());
    long freeAfter = ctx.memoryInfo()[0];
    assertTrue(Math.abs(freeAfter - freeBefore) < (32L << 20), "free memory moved from " + freeBefore + " to " + freeAfter);
  }
}
