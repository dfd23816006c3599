package dev.aphelion.tritter.ternary;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.kernel.RowPool;
import dev.aphelion.tritter.kernel.Vectorization;
import dev.aphelion.tritter.quant.Int8Activations;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class TernaryMatmulTest {

  private static final RowPool POOL = RowPool.create(3); // more threads than cores: exercises the split
  private static final TernaryMatmul SCALAR = new TernaryMatmul(Vectorization.scalar(), RowPool.create(1));
  private static final TernaryMatmul VECTOR = new TernaryMatmul(Vectorization.vector(), POOL);

  @AfterAll
  static void close() {
    POOL.close();
    SCALAR.pool().close();
  }

  private static final int[] COLS = {1, 3, 17, 63, 64, 65, 1021, 4099};
  private static final int[] ROWS = {1, 5, 31, 33, 70, 289}; // 289 rows: two spans of row blocks, the last one partial

  @Test
  void seedVectors() {
    PackedTernary w = PackedTernary.fromTrits(new byte[] {1, -1, 1, -1, 1, 1, 0, 0}, 2, 4, new float[] {1f, 1f}, 4);
    for (TernaryMatmul m : new TernaryMatmul[] {SCALAR, VECTOR}) {
      float[] y = new float[2];
      m.gemv(w, new float[] {1, 2, 3, 4}, y);
      assertArrayEquals(new float[] {-2f, 3f}, y, m.toString());
      assertEquals(0, m.dot(new byte[] {1, -1, 0, 1}, new byte[] {1, 1, -1, 0}));
      float[] yi = new float[2];
      Int8Activations q = Int8Activations.of(new byte[] {1, 2, 3, 4}, new float[] {1f}, 1, 4);
      m.gemvInt8(w, q, yi, new float[] {0.5f, -1f});
      assertArrayEquals(new float[] {-1.5f, 2f}, yi, m.toString());
    }
  }

  @Test
  void dotMatchesOnOddLengths() {
    Random rnd = new Random(3);
    for (int n : new int[] {0, 1, 3, 63, 64, 65, 1021, 9000, 20000}) {
      byte[] a = PackedTernaryTest.randomTrits(rnd, n);
      byte[] b = PackedTernaryTest.randomTrits(rnd, n);
      int expected = 0;
      for (int i = 0; i < n; i++) {
        expected += a[i] * b[i];
      }
      assertEquals(expected, SCALAR.dot(a, b));
      assertEquals(expected, VECTOR.dot(a, b), "n " + n);
    }
    byte[] ones = new byte[20000];
    java.util.Arrays.fill(ones, (byte) -1);
    assertEquals(20000, VECTOR.dot(ones, ones));
  }

  /** Random weights and scales; trits drawn with the given probabilities of +1 and -1. */
  static PackedTernary randomWeights(Random rnd, int rows, int cols, int group, double plus, double minus) {
    byte[] t = new byte[rows * cols];
    for (int i = 0; i < t.length; i++) {
      double u = rnd.nextDouble();
      t[i] = (byte) (u < plus ? 1 : u < plus + minus ? -1 : 0);
    }
    int groups = (cols + group - 1) / group;
    float[] s = new float[rows * groups];
    for (int i = 0; i < s.length; i++) {
      s[i] = 0.01f + rnd.nextFloat();
    }
    return PackedTernary.fromTrits(t, rows, cols, s, group);
  }

  private static int[] groupsFor(int cols) {
    return new int[] {cols, 4, 7, 64, Math.max(1, cols / 3)};
  }

  /**
   * The int8 kernels on batches that take every token tile of the 256-bit word kernel (1-3 tokens
   * one by one; 4, 8 and their remainders on weights unpacked once per span), on groups that cross
   * its 1024-column segments and its 128-column padding, and on the largest sums it can meet (all
   * weights +1 or -1 times +-127: every 16-bit segment sum at its bound), and on enough groups that
   * the batch is cut into several passes. Bit for bit
   * against the scalar reference whatever kernel this JVM picks; {@code
   * PanamaTernaryKernels.int8Kernel} names it in the message.
   */
  @Test
  void int8PathIsExactOnEveryTokenTileAndSegment() {
    Random rnd = new Random(11);
    int[][] shapes = {{70, 1100, 1100}, {33, 2100, 1050}, {5, 3001, 3001}, {64, 2048, 2048}, {65, 129, 129}, {3, 1021, 340}, {130, 4099, 4099},
        {5, 65600, 128}}; // 513 groups: the word kernel takes 8 tokens per pass, so 17 tokens are 3 passes
    for (int[] shape : shapes) {
      for (int batch : new int[] {1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 17}) {
        for (int extreme = 0; extreme < 3; extreme++) {
          int rows = shape[0];
          int cols = shape[1];
          double plus = extreme == 0 ? 0.3 : extreme == 1 ? 1.0 : 0.0;
          double minus = extreme == 0 ? 0.3 : extreme == 1 ? 0.0 : 1.0;
          PackedTernary w = randomWeights(rnd, rows, cols, shape[2], plus, minus);
          byte[] q = new byte[batch * cols];
          for (int i = 0; i < q.length; i++) {
            q[i] = extreme == 0 ? (byte) (rnd.nextInt(255) - 127) : (byte) (i % 3 == 0 ? -127 : 127);
          }
          if (extreme != 0) {
            java.util.Arrays.fill(q, 0, cols, (byte) 127); // token 0: every product +-127, the same sign
          }
          float[] scales = new float[batch];
          for (int b = 0; b < batch; b++) {
            scales[b] = 1e-3f + rnd.nextFloat();
          }
          Int8Activations x = Int8Activations.of(q, scales, batch, cols);
          float[] bias = rnd.nextBoolean() ? randomFloats(rnd, rows) : null;
          float[] ys = new float[batch * rows];
          float[] yv = new float[batch * rows];
          SCALAR.gemmInt8(w, x, ys, bias);
          VECTOR.gemmInt8(w, x, yv, bias);
          assertArrayEquals(ys, yv, PanamaTernaryKernels.int8Kernel(w) + " " + rows + "x" + cols + " group " + shape[2] + " batch " + batch + " extreme " + extreme);
        }
      }
    }
  }

  /**
   * Several matrices on one input (q/k/v with grouped-query row counts, gate/up) in one call
   * against the scalar reference run matrix by matrix, bit for bit: row counts that are no
   * multiple of the 32-row block or the 256-row span, ragged scale groups, every token tile, and
   * matrices of different group sizes (which cannot share tables and run one by one).
   *
   * @return {@code null}, or a description of the first mismatch
   */
  static String sharedMismatch(TernaryMatmul scalar, TernaryMatmul vector, Random rnd, int[] rows, int cols, int[] groups, int batch) {
    PackedTernary[] w = new PackedTernary[rows.length];
    float[][] bias = new float[rows.length][];
    float[][] ys = new float[rows.length][];
    float[][] yv = new float[rows.length][];
    for (int i = 0; i < w.length; i++) {
      w[i] = randomWeights(rnd, rows[i], cols, groups[i], 0.3, 0.3);
      bias[i] = rnd.nextBoolean() ? randomFloats(rnd, rows[i]) : null;
      ys[i] = new float[batch * rows[i]];
      yv[i] = new float[batch * rows[i]];
      java.util.Arrays.fill(yv[i], Float.NaN); // every output must be written
    }
    byte[] q = new byte[batch * cols];
    for (int i = 0; i < q.length; i++) {
      q[i] = (byte) (rnd.nextInt(255) - 127);
    }
    float[] scales = new float[batch];
    for (int b = 0; b < batch; b++) {
      scales[b] = 1e-3f + rnd.nextFloat();
    }
    Int8Activations x = Int8Activations.of(q, scales, batch, cols);
    for (int i = 0; i < w.length; i++) {
      scalar.gemmInt8(w[i], x, ys[i], bias[i]);
    }
    vector.gemmInt8(w, x, yv, bias);
    for (int i = 0; i < w.length; i++) {
      for (int j = 0; j < ys[i].length; j++) {
        if (Float.floatToRawIntBits(ys[i][j]) != Float.floatToRawIntBits(yv[i][j])) {
          return "MISMATCH shared " + java.util.Arrays.toString(rows) + "x" + cols + " groups " + java.util.Arrays.toString(groups)
              + " batch " + batch + " matrix " + i + " at " + j + ": " + ys[i][j] + " vs " + yv[i][j];
        }
      }
    }
    return null;
  }

  /** Shapes {@link #sharedMismatch} runs: rows of each matrix, columns, group of each matrix. */
  static final int[][][] SHARED_SHAPES = {
      {{289, 70, 70}, {1021}, {1021, 1021, 1021}}, // q, k, v of a 4:1 grouped-query block, ragged quads
      {{33, 5, 5}, {65}, {7, 7, 7}},
      {{600, 600}, {300}, {300, 300}}, // gate, up: several spans each
      {{513, 1, 257}, {130}, {64, 64, 64}},
      {{70, 70}, {1100}, {1100, 128}}, // different groups: no shared tables, one by one
      {{31}, {17}, {17}},
  };

  @Test
  void sharedInt8MatmulIsExactAgainstOneByOne() {
    Random rnd = new Random(12);
    for (int[][] shape : SHARED_SHAPES) {
      for (int batch : new int[] {1, 2, 3, 4, 5, 8, 9}) {
        String m = sharedMismatch(SCALAR, VECTOR, rnd, shape[0], shape[1][0], shape[2], batch);
        assertEquals(null, m, m);
        m = sharedMismatch(VECTOR, VECTOR, rnd, shape[0], shape[1][0], shape[2], batch);
        assertEquals(null, m, m);
      }
    }
  }

  @Test
  void sharedInt8MatmulChecksItsArguments() {
    Random rnd = new Random(5);
    PackedTernary a = randomWeights(rnd, 5, 8, 8, 0.3, 0.3);
    PackedTernary b = randomWeights(rnd, 3, 8, 8, 0.3, 0.3);
    PackedTernary wide = randomWeights(rnd, 3, 9, 9, 0.3, 0.3);
    Int8Activations x = Int8Activations.of(new byte[8], new float[] {1f}, 1, 8);
    float[] ya = new float[5];
    float[] yb = new float[3];
    assertThrows(ShapeException.class, () -> VECTOR.gemmInt8(new PackedTernary[] {a, b}, x, new float[][] {ya}, null));
    assertThrows(ShapeException.class, () -> VECTOR.gemmInt8(new PackedTernary[0], x, new float[0][], null));
    assertThrows(ShapeException.class, () -> VECTOR.gemmInt8(new PackedTernary[] {a, wide}, x, new float[][] {ya, yb}, null));
    assertThrows(ShapeException.class, () -> VECTOR.gemmInt8(new PackedTernary[] {b, b}, x, new float[][] {yb, yb}, null));
    assertThrows(ShapeException.class, () -> VECTOR.gemmInt8(new PackedTernary[] {a, b}, x, new float[][] {ya, yb}, new float[][] {null, ya}));
    assertThrows(ShapeException.class, () -> VECTOR.gemmInt8(new PackedTernary[] {a, b}, x, new float[][] {yb, ya}, null));
  }

  @Test
  void int8PathIsExactOnOddShapes() {
    Random rnd = new Random(42);
    for (int cols : COLS) {
      for (int rows : ROWS) {
        for (int group : groupsFor(cols)) {
          if (group > cols) {
            continue;
          }
          PackedTernary w = randomWeights(rnd, rows, cols, group, 0.3, 0.3);
          int batch = 1 + rnd.nextInt(3);
          byte[] q = new byte[batch * cols];
          for (int i = 0; i < q.length; i++) {
            q[i] = (byte) (rnd.nextInt(255) - 127);
          }
          float[] scales = {0.02f, 1.5f, 3e-3f};
          Int8Activations x = Int8Activations.of(q, java.util.Arrays.copyOf(scales, batch), batch, cols);
          float[] bias = rnd.nextBoolean() ? randomFloats(rnd, rows) : null;
          float[] ys = new float[batch * rows];
          float[] yv = new float[batch * rows];
          SCALAR.gemmInt8(w, x, ys, bias);
          VECTOR.gemmInt8(w, x, yv, bias);
          assertArrayEquals(ys, yv, rows + "x" + cols + " group " + group + " batch " + batch);
          assertEquals(ys[0], reference(w, x, 0, 0, bias));
        }
      }
    }
  }

  /** Independent reference for one output, from the trits and scales. */
  private static float reference(PackedTernary w, Int8Activations x, int token, int row, float[] bias) {
    float s = 0f;
    for (int g = 0; g < w.groupsPerRow(); g++) {
      int acc = 0;
      for (int c = g * w.groupSize(); c < Math.min(w.cols(), (g + 1) * w.groupSize()); c++) {
        acc += w.trit(row, c) * x.value(token, c);
      }
      s += (float) acc * w.scale(row, g);
    }
    float v = s * x.scale(token);
    return bias == null ? v : v + bias[row];
  }

  @Test
  void int8EdgeValues() {
    // all +1 or all -1 weights times all ±127: the largest partial sums (overflow of the short accumulators)
    for (int cols : new int[] {64, 255, 256, 257, 4099, 14336}) {
      int rows = 33;
      for (int sign : new int[] {1, -1}) {
        byte[] t = new byte[rows * cols];
        java.util.Arrays.fill(t, (byte) sign);
        PackedTernary w = PackedTernary.fromTrits(t, rows, cols, PackedTernaryTest.ones(rows), cols);
        byte[] q = new byte[cols];
        java.util.Arrays.fill(q, (byte) 127);
        Int8Activations x = Int8Activations.of(q, new float[] {1f}, 1, cols);
        float[] ys = new float[rows];
        float[] yv = new float[rows];
        SCALAR.gemvInt8(w, x, ys);
        VECTOR.gemvInt8(w, x, yv);
        assertArrayEquals(ys, yv);
        assertEquals(sign * 127f * cols, yv[rows - 1]);
        java.util.Arrays.fill(q, (byte) -127);
        VECTOR.gemvInt8(w, Int8Activations.of(q, new float[] {1f}, 1, cols), yv);
        assertEquals(-sign * 127f * cols, yv[0]);
      }
    }
    // all-zero weights and activations
    PackedTernary zero = PackedTernary.fromTrits(new byte[65 * 3], 3, 65, PackedTernaryTest.ones(3), 65);
    float[] y = {9, 9, 9};
    VECTOR.gemvInt8(zero, Int8Activations.quantize(Vectorization.vector(), new float[65], 1, 65), y);
    assertArrayEquals(new float[3], y);
  }

  @Test
  void floatPathWithinStatedBound() {
    Random rnd = new Random(99);
    for (int cols : COLS) {
      for (int rows : ROWS) {
        for (int group : groupsFor(cols)) {
          if (group > cols) {
            continue;
          }
          PackedTernary w = randomWeights(rnd, rows, cols, group, 0.35, 0.35);
          int batch = 1 + rnd.nextInt(5);
          float[] x = new float[batch * cols];
          float mag = rnd.nextBoolean() ? 1f : 1e6f;
          for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian() * mag;
          }
          float[] bias = rnd.nextBoolean() ? randomFloats(rnd, rows) : null;
          float[] ys = new float[batch * rows];
          float[] yv = new float[batch * rows];
          SCALAR.gemm(w, x, batch, ys, bias);
          VECTOR.gemm(w, x, batch, yv, bias);
          for (int b = 0; b < batch; b++) {
            for (int r = 0; r < rows; r++) {
              double bound = floatBound(w, x, b, r, bias);
              float d = Math.abs(ys[b * rows + r] - yv[b * rows + r]);
              assertTrue(d <= bound, rows + "x" + cols + " group " + group + " token " + b + " row " + r + ": |" + ys[b * rows + r] + " - " + yv[b * rows + r] + "| > " + bound);
            }
          }
        }
      }
    }
  }

  /** 2·γ(n)·Σ_g |scale|·Σ|x| plus one rounding of each result: the bound TernaryMatmul documents. */
  static double floatBound(PackedTernary w, float[] x, int b, int r, float[] bias) {
    double u = Math.ulp(1f) / 2;
    double total = 0;
    for (int g = 0; g < w.groupsPerRow(); g++) {
      double sum = 0;
      int c0 = g * w.groupSize();
      int c1 = Math.min(w.cols(), c0 + w.groupSize());
      for (int c = c0; c < c1; c++) {
        sum += Math.abs(x[b * w.cols() + c]);
      }
      int n = c1 - c0 + w.groupsPerRow() + 2;
      double gamma = n * u / (1 - n * u);
      total += 2 * gamma * Math.abs(w.scale(r, g)) * sum;
    }
    return total + (bias == null ? 0 : 2 * u * Math.abs(bias[r])) + Float.MIN_NORMAL;
  }

  @Test
  void floatPathIsExactOnSmallIntegers() {
    // integer-valued activations small enough that every partial sum is exact in float
    Random rnd = new Random(5);
    PackedTernary w = randomWeights(rnd, 37, 1021, 1021, 0.4, 0.4);
    float[] x = new float[1021];
    for (int i = 0; i < x.length; i++) {
      x[i] = rnd.nextInt(201) - 100;
    }
    float[] ys = new float[37];
    float[] yv = new float[37];
    SCALAR.gemv(w, x, ys);
    VECTOR.gemv(w, x, yv);
    assertArrayEquals(ys, yv);
  }

  @Test
  void gemmEqualsTokenByTokenGemv() {
    Random rnd = new Random(8);
    PackedTernary w = randomWeights(rnd, 70, 300, 64, 0.3, 0.3);
    int batch = 9;
    float[] x = randomFloats(rnd, batch * 300);
    float[] y = new float[batch * 70];
    VECTOR.gemm(w, x, batch, y);
    Int8Activations q = Int8Activations.quantize(Vectorization.vector(), x, batch, 300);
    float[] yq = new float[batch * 70];
    VECTOR.gemmInt8(w, q, yq);
    for (int b = 0; b < batch; b++) {
      float[] one = new float[70];
      VECTOR.gemv(w, java.util.Arrays.copyOfRange(x, b * 300, (b + 1) * 300), one);
      assertArrayEquals(one, java.util.Arrays.copyOfRange(y, b * 70, (b + 1) * 70));
      float[] oneq = new float[70];
      VECTOR.gemvInt8(w, Int8Activations.quantize(Vectorization.vector(), java.util.Arrays.copyOfRange(x, b * 300, (b + 1) * 300), 1, 300), oneq);
      assertArrayEquals(oneq, java.util.Arrays.copyOfRange(yq, b * 70, (b + 1) * 70));
    }
  }

  @Test
  void largeShapeSplitsAcrossThreadsIdentically() {
    Random rnd = new Random(12);
    PackedTernary w = randomWeights(rnd, 256, 4099, 4099, 0.3, 0.3);
    Int8Activations x = Int8Activations.quantize(Vectorization.vector(), randomFloats(rnd, 4099), 1, 4099);
    float[] y1 = new float[256];
    float[] y3 = new float[256];
    try (RowPool one = RowPool.create(1)) {
      new TernaryMatmul(Vectorization.vector(), one).gemvInt8(w, x, y1);
    }
    VECTOR.gemvInt8(w, x, y3);
    assertArrayEquals(y1, y3);
    float[] ys = new float[256];
    SCALAR.gemvInt8(w, x, ys);
    assertArrayEquals(ys, y3);
  }

  /** The public kernel name is the one the kernels report, per batch; the scalar path says so. */
  @Test
  void int8KernelNameNamesTheSelectedKernel() {
    PackedTernary w = randomWeights(new Random(3), 40, 300, 300, 0.3, 0.3);
    assertEquals("scalar", SCALAR.int8KernelName(w, 1));
    for (int batch : new int[] {1, 3, 4, 8, 512}) {
      assertEquals(PanamaTernaryKernels.int8Kernel(w, batch), VECTOR.int8KernelName(w, batch));
    }
    String one = VECTOR.int8KernelName(w, 1);
    assertTrue(java.util.Set.of("word256", "lut256", "lut512", "scalar").contains(one), one);
    assertEquals(one.equals("lut512") ? "lut512x4" : one, VECTOR.int8KernelName(w, 8));
    assertThrows(ShapeException.class, () -> VECTOR.int8KernelName(w, 0));
  }

  @Test
  void shapeMismatchesAreNamed() {
    PackedTernary w = PackedTernary.fromTrits(new byte[6], 2, 3, new float[] {1f, 1f}, 3);
    ShapeException x = assertThrows(ShapeException.class, () -> VECTOR.gemv(w, new float[4], new float[2]));
    assertTrue(x.getMessage().contains("x has length 4") && x.getMessage().contains("2x3"), x.getMessage());
    ShapeException y = assertThrows(ShapeException.class, () -> VECTOR.gemv(w, new float[3], new float[3]));
    assertTrue(y.getMessage().contains("y has length 3"), y.getMessage());
    ShapeException b = assertThrows(ShapeException.class, () -> VECTOR.gemv(w, new float[3], new float[2], new float[1]));
    assertTrue(b.getMessage().contains("bias has length 1"), b.getMessage());
    ShapeException g = assertThrows(ShapeException.class, () -> VECTOR.gemm(w, new float[6], 3, new float[6]));
    assertTrue(g.getMessage().contains("batch is 3"), g.getMessage());
    Int8Activations q = Int8Activations.of(new byte[4], new float[] {1f}, 1, 4);
    ShapeException i = assertThrows(ShapeException.class, () -> VECTOR.gemvInt8(w, q, new float[2]));
    assertTrue(i.getMessage().contains("4 columns") && i.getMessage().contains("2x3"), i.getMessage());
    Int8Activations two = Int8Activations.of(new byte[6], new float[] {1f, 1f}, 2, 3);
    assertThrows(ShapeException.class, () -> VECTOR.gemvInt8(w, two, new float[2]));
    ShapeException d = assertThrows(ShapeException.class, () -> VECTOR.dot(new byte[2], new byte[3]));
    assertTrue(d.getMessage().contains("2 and 3"), d.getMessage());
    ShapeException dt = assertThrows(ShapeException.class, () -> VECTOR.dot(new byte[] {0, 2}, new byte[2]));
    assertTrue(dt.getMessage().contains("a[1]"), dt.getMessage());
  }

  static float[] randomFloats(Random rnd, int n) {
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (float) rnd.nextGaussian();
    }
    return f;
  }
}
