package dev.aphelion.cuda.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.cuda.driver.CudaDriver;
import dev.aphelion.cuda.ternary.CudaTernaryKernels;
import dev.aphelion.tritter.compute.ComputeOps;
import dev.aphelion.tritter.model.CpuComputeOps;
import dev.aphelion.tritter.ternary.PackedTernary;
import dev.aphelion.tritter.ternary.TernaryQuantization;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Each GPU operation against the CPU operations on the same inputs, on odd sizes: exact where the
 * arithmetic is the same (embedding, RoPE, additions, copies, squared ReLU, int8 quantization and
 * ternary x int8 products), within a relative bound where a reduction sums in another order.
 * Skipped, with the reason, where no CUDA device is usable.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaComputeOpsTest {

  private CudaTernaryKernels kernels;
  private CudaComputeOps gpu;
  private CpuComputeOps cpu;

  @BeforeAll
  void open() {
    if (CudaDriver.probe().available()) {
      kernels = CudaTernaryKernels.open(0);
    }
  }

  @AfterAll
  void close() {
    if (kernels != null) {
      kernels.close();
    }
  }

  @BeforeEach
  void fresh() {
    CudaDriver.Probe p = CudaDriver.probe();
    Assumptions.assumeTrue(p.available(), () -> "skipped, no usable CUDA device: " + p.reason());
    if (gpu != null) {
      gpu.close();
      cpu.close();
    }
    gpu = new CudaComputeOps(kernels, "cuda");
    cpu = new CpuComputeOps("cpu");
  }

  static float[] gaussian(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (float) r.nextGaussian();
    }
    return f;
  }

  /** Both sides' activations holding the same values. */
  private record Pair(ComputeOps.Activations g, ComputeOps.Activations c, int rows, int cols) {}

  private Pair pair(float[] v, int rows, int cols) {
    ComputeOps.Activations g = gpu.allocate(rows, cols);
    ComputeOps.Activations c = cpu.allocate(rows, cols);
    if (v != null) {
      gpu.write(g, v, rows);
      cpu.write(c, v, rows);
    }
    return new Pair(g, c, rows, cols);
  }

  private float[][] read(Pair p) {
    float[] a = new float[p.rows * p.cols];
    float[] b = new float[p.rows * p.cols];
    gpu.read(p.g, a, p.rows);
    cpu.read(p.c, b, p.rows);
    return new float[][] {a, b};
  }

  private void assertExact(Pair p) {
    float[][] ab = read(p);
    assertArrayEquals(ab[1], ab[0]);
  }

  static void assertRelative(float[] expected, float[] actual, float rel) {
    float max = 1e-30f;
    for (float e : expected) {
      max = Math.max(max, Math.abs(e));
    }
    for (int i = 0; i < expected.length; i++) {
      float d = Math.abs(expected[i] - actual[i]);
      assertTrue(d <= rel * max, "element " + i + ": gpu " + actual[i] + ", cpu " + expected[i] + ", bound " + rel * max);
    }
  }

  private ComputeOps.Indices[] indices(int[] v) {
    ComputeOps.Indices g = gpu.allocateIndices(v.length);
    ComputeOps.Indices c = cpu.allocateIndices(v.length);
    gpu.write(g, v);
    cpu.write(c, v);
    return new ComputeOps.Indices[] {g, c};
  }

  @ParameterizedTest
  @CsvSource({"1,7", "3,24", "5,32", "2,2560"})
  void embeddingIsExactAndTheHeadWithinBound(int rows, int dim) {
    int vocab = 37;
    float[] table = gaussian(vocab * dim, dim);
    byte[] q = new byte[vocab * dim];
    SplittableRandom r = new SplittableRandom(rows);
    for (int i = 0; i < q.length; i++) {
      q[i] = (byte) (r.nextInt(255) - 127);
    }
    float[] scales = gaussian(vocab, 5);
    int[] tokens = new int[rows];
    for (int i = 0; i < rows; i++) {
      tokens[i] = (i * 11 + 3) % vocab;
    }
    ComputeOps.Indices[] t = indices(tokens);
    for (boolean int8 : new boolean[] {true, false}) {
      ComputeOps.Table tg = int8 ? gpu.uploadTable(null, q, scales, vocab, dim) : gpu.uploadTable(table, null, null, vocab, dim);
      ComputeOps.Table tc = int8 ? cpu.uploadTable(null, q, scales, vocab, dim) : cpu.uploadTable(table, null, null, vocab, dim);
      Pair e = pair(null, rows, dim);
      gpu.embed(tg, t[0], rows, e.g);
      cpu.embed(tc, t[1], rows, e.c);
      assertExact(e);
      Pair x = pair(gaussian(rows * dim, 9), rows, dim);
      Pair l = pair(null, rows, vocab);
      gpu.logits(tg, x.g, rows, l.g);
      cpu.logits(tc, x.c, rows, l.c);
      float[][] ab = read(l);
      // dim products of size ~1 summed in another order: ~dim·2^-24 of the largest term sum
      assertRelative(ab[1], ab[0], 1e-5f * (float) Math.sqrt(dim) + 1e-6f);
    }
  }

  @ParameterizedTest
  @CsvSource({"1,1", "3,24", "2,1021", "4,6912"})
  void rmsNormWithinBoundAddCopyAndSquaredReluExact(int rows, int n) {
    float[] gain = gaussian(n, 4);
    ComputeOps.Vector gg = gpu.uploadVector(gain);
    ComputeOps.Vector gc = cpu.uploadVector(gain);
    Pair x = pair(gaussian(rows * n, 1), rows, n);
    Pair y = pair(null, rows, n);
    gpu.rmsNorm(x.g, gg, 1e-5f, rows, y.g);
    cpu.rmsNorm(x.c, gc, 1e-5f, rows, y.c);
    float[][] ab = read(y);
    assertRelative(ab[1], ab[0], 1e-5f);
    gpu.rmsNorm(x.g, gg, 1e-5f, rows, x.g);
    cpu.rmsNorm(x.c, gc, 1e-5f, rows, x.c);
    assertRelative(read(x)[1], read(x)[0], 1e-5f);

    Pair a = pair(gaussian(rows * n, 2), rows, n);
    Pair b = pair(gaussian(rows * n, 3), rows, n);
    gpu.add(a.g, b.g, rows);
    cpu.add(a.c, b.c, rows);
    assertExact(a);
    gpu.gated(ComputeOps.GatedActivation.SQUARED_RELU, a.g, b.g, rows);
    cpu.gated(ComputeOps.GatedActivation.SQUARED_RELU, a.c, b.c, rows);
    assertExact(a);
    Pair s = pair(gaussian(rows * n, 5), rows, n);
    Pair u = pair(gaussian(rows * n, 6), rows, n);
    gpu.gated(ComputeOps.GatedActivation.SILU, s.g, u.g, rows);
    cpu.gated(ComputeOps.GatedActivation.SILU, s.c, u.c, rows);
    // expf against Math.exp: a few ulps per element
    float[][] su = read(s);
    for (int i = 0; i < su[0].length; i++) {
      assertTrue(Math.abs(su[0][i] - su[1][i]) <= 1e-6f * Math.max(1f, Math.abs(su[1][i])), "silu " + i);
    }
    Pair d = pair(gaussian((rows + 2) * n, 7), rows + 2, n);
    gpu.copyRows(a.g, rows - 1, d.g, 2, 1);
    cpu.copyRows(a.c, rows - 1, d.c, 2, 1);
    assertExact(d);
  }

  @ParameterizedTest
  @CsvSource({"1,17,300", "1,2560,2560", "3,33,257", "64,65,1021", "65,130,300", "130,64,512"})
  void quantizedTernaryProductsAreExact(int rows, int outs, int cols) {
    float[] w = gaussian(outs * cols, outs);
    PackedTernary p = TernaryQuantization.absmean(w, outs, cols, cols).toPacked();
    float[] bias = gaussian(outs, 2);
    ComputeOps.Weights wg = gpu.uploadTernary(p, bias);
    ComputeOps.Weights wc = cpu.uploadTernary(p, bias);
    Pair x = pair(gaussian(rows * cols, cols), rows, cols);
    ComputeOps.QuantizedRows qg = gpu.allocateQuantized(rows, cols);
    ComputeOps.QuantizedRows qc = cpu.allocateQuantized(rows, cols);
    gpu.quantize(x.g, rows, qg);
    cpu.quantize(x.c, rows, qc);
    Pair y = pair(null, rows, outs);
    gpu.matmul(wg, qg, rows, y.g);
    cpu.matmul(wc, qc, rows, y.c);
    assertExact(y);
  }

  @ParameterizedTest
  @CsvSource({"1,17,30", "3,64,256", "5,33,7"})
  void denseProductsWithinBound(int rows, int outs, int cols) {
    float[] w = gaussian(outs * cols, 1);
    float[] bias = gaussian(outs, 2);
    ComputeOps.Weights wg = gpu.uploadDense(w, outs, cols, bias);
    ComputeOps.Weights wc = cpu.uploadDense(w, outs, cols, bias);
    Pair x = pair(gaussian(rows * cols, 3), rows, cols);
    Pair y = pair(null, rows, outs);
    gpu.matmul(wg, x.g, rows, y.g);
    cpu.matmul(wc, x.c, rows, y.c);
    float[][] ab = read(y);
    assertRelative(ab[1], ab[0], 1e-5f * (float) Math.sqrt(cols) + 1e-6f);
  }

  @ParameterizedTest
  @CsvSource({"1,4,2,8,1", "3,6,3,4,5", "2,20,5,128,70", "1,20,5,128,512", "4,4,1,16,130", "1,4,1,128,2047",
      "2,8,2,200,300", "70,4,4,40,0", "2,4,2,10,33", "1,6,3,6,100"})
  void ropeIsExactAndAttentionWithinBound(int rows, int heads, int kvHeads, int hd, int startPos) {
    int capacity = startPos + rows + 3;
    int seqsN = 2;
    ComputeOps.RopeTable rg = gpu.uploadRope(hd, 500000.0, capacity);
    ComputeOps.RopeTable rc = cpu.uploadRope(hd, 500000.0, capacity);
    ComputeOps.KvStore kg = gpu.allocateKv(2, seqsN, kvHeads, hd, capacity);
    ComputeOps.KvStore kc = cpu.allocateKv(2, seqsN, kvHeads, hd, capacity);
    float scale = (float) (1.0 / Math.sqrt(hd));
    // history: positions [0, startPos) of sequence 1, one call, then the rows
    int[][] calls = {range(0, startPos), range(startPos, startPos + rows)};
    for (int[] pos : calls) {
      if (pos.length == 0) {
        continue;
      }
      int n = pos.length;
      int[] seq = new int[n];
      java.util.Arrays.fill(seq, 1);
      ComputeOps.Indices[] p = indices(pos);
      ComputeOps.Indices[] s = indices(seq);
      Pair q = pair(gaussian(n * heads * hd, n), n, heads * hd);
      Pair k = pair(gaussian(n * kvHeads * hd, n + 1), n, kvHeads * hd);
      Pair v = pair(gaussian(n * kvHeads * hd, n + 2), n, kvHeads * hd);
      gpu.rope(q.g, n, heads, rg, p[0]);
      cpu.rope(q.c, n, heads, rc, p[1]);
      assertExact(q);
      gpu.rope(k.g, n, kvHeads, rg, p[0]);
      cpu.rope(k.c, n, kvHeads, rc, p[1]);
      assertExact(k);
      Pair o = pair(null, n, heads * hd);
      gpu.attend(kg, 1, q.g, k.g, v.g, n, heads, s[0], p[0], scale, o.g);
      cpu.attend(kc, 1, q.c, k.c, v.c, n, heads, s[1], p[1], scale, o.c);
      float[][] ab = read(o);
      // softmax-weighted means of N(0,1) values: float error of a few ulps of the terms
      for (int i = 0; i < ab[0].length; i++) {
        assertTrue(Math.abs(ab[0][i] - ab[1][i]) <= 2e-5f, "attention " + i + ": gpu " + ab[0][i] + ", cpu " + ab[1][i]);
      }
    }
  }

  /** project: one row is the fused kernel, more rows the unfused calls; both exact against the CPU. */
  @ParameterizedTest
  @CsvSource({"1,17:9:9,300", "1,2560:640:640,2560", "1,6912:6912,2560", "1,2560,6912", "1,33,257", "3,33:20,257", "2,65,1021"})
  void projectionsAreExactFusedOrNot(int rows, String outList, int cols) {
    String[] parts = outList.split(":");
    int n = parts.length;
    ComputeOps.Weights[] wg = new ComputeOps.Weights[n];
    ComputeOps.Weights[] wc = new ComputeOps.Weights[n];
    Pair[] ys = new Pair[n];
    for (int i = 0; i < n; i++) {
      int outs = Integer.parseInt(parts[i]);
      PackedTernary p = TernaryQuantization.absmean(gaussian(outs * cols, outs + i), outs, cols, cols).toPacked();
      float[] bias = i == 1 ? null : gaussian(outs, 2 + i);
      wg[i] = gpu.uploadTernary(p, bias);
      wc[i] = cpu.uploadTernary(p, bias);
      ys[i] = pair(null, rows, outs);
    }
    Pair x = pair(gaussian(rows * cols, cols), rows, cols);
    ComputeOps.QuantizedRows qg = gpu.allocateQuantized(rows, cols);
    ComputeOps.QuantizedRows qc = cpu.allocateQuantized(rows, cols);
    ComputeOps.Activations[] yg = new ComputeOps.Activations[n];
    ComputeOps.Activations[] yc = new ComputeOps.Activations[n];
    for (int i = 0; i < n; i++) {
      yg[i] = ys[i].g();
      yc[i] = ys[i].c();
    }
    Pair res = n == 1 ? pair(gaussian(rows * Integer.parseInt(parts[0]), 9), rows, Integer.parseInt(parts[0])) : null;
    gpu.project(x.g, rows, qg, wg, yg, res == null ? null : res.g);
    cpu.project(x.c, rows, qc, wc, yc, res == null ? null : res.c);
    for (Pair y : ys) {
      assertExact(y);
    }
    if (res != null) {
      assertExact(res);
    }
    // the int8 rows it left behind are the quantized input
    Pair again = pair(null, rows, Integer.parseInt(parts[0]));
    gpu.matmul(wg[0], qg, rows, again.g);
    cpu.matmul(wc[0], qc, rows, again.c);
    assertExact(again);
    assertArrayEquals(read(again)[0], read(ys[0])[0]);
  }

  /**
   * normProject (the norm in the GEMV's prologue for one row, the unfused calls for more) against
   * the CPU's rmsNorm and project: bit for bit on small-integer inputs, whose sum of squares is
   * exact in any order; within 1e-4 of the largest output on Gaussian inputs, where the norm's
   * factor may differ in its last bit and flip an int8 rounding.
   */
  @ParameterizedTest
  @CsvSource({"1,2560:640:640,2560", "1,2560,6912", "1,6912:6912,2560", "1,33,257", "3,33:20,257", "1,17,63"})
  void normProjectionsMatchNormThenProject(int rows, String outList, int cols) {
    String[] parts = outList.split(":");
    int n = parts.length;
    float[] gain = gaussian(cols, 77);
    ComputeOps.Vector gg = gpu.uploadVector(gain);
    ComputeOps.Vector gc = cpu.uploadVector(gain);
    ComputeOps.Weights[] wg = new ComputeOps.Weights[n];
    ComputeOps.Weights[] wc = new ComputeOps.Weights[n];
    for (int i = 0; i < n; i++) {
      int outs = Integer.parseInt(parts[i]);
      PackedTernary p = TernaryQuantization.absmean(gaussian(outs * cols, outs + i), outs, cols, cols).toPacked();
      wg[i] = gpu.uploadTernary(p, null);
      wc[i] = cpu.uploadTernary(p, null);
    }
    SplittableRandom r = new SplittableRandom(cols);
    float[] ints = new float[rows * cols];
    for (int i = 0; i < ints.length; i++) {
      ints[i] = r.nextInt(-8, 9);
    }
    for (boolean exact : new boolean[] {true, false}) {
      Pair x = pair(exact ? ints : gaussian(rows * cols, cols + 1), rows, cols);
      Pair normed = pair(null, rows, cols);
      Pair[] ys = new Pair[n];
      ComputeOps.Activations[] yg = new ComputeOps.Activations[n];
      ComputeOps.Activations[] yc = new ComputeOps.Activations[n];
      for (int i = 0; i < n; i++) {
        ys[i] = pair(null, rows, Integer.parseInt(parts[i]));
        yg[i] = ys[i].g();
        yc[i] = ys[i].c();
      }
      Pair res = n == 1 ? pair(gaussian(rows * Integer.parseInt(parts[0]), 9), rows, Integer.parseInt(parts[0])) : null;
      ComputeOps.QuantizedRows qg = gpu.allocateQuantized(rows, cols);
      ComputeOps.QuantizedRows qc = cpu.allocateQuantized(rows, cols);
      gpu.normProject(x.g, gg, 1e-5f, normed.g, rows, qg, wg, yg, res == null ? null : res.g);
      cpu.normProject(x.c, gc, 1e-5f, normed.c, rows, qc, wc, yc, res == null ? null : res.c);
      for (Pair y : ys) {
        if (exact) {
          assertExact(y);
        } else {
          float[][] ab = read(y);
          assertRelative(ab[1], ab[0], 1e-4f);
        }
      }
      if (res != null) {
        if (exact) {
          assertExact(res);
        } else {
          float[][] ab = read(res);
          assertRelative(ab[1], ab[0], 1e-4f);
        }
      }
      assertExact(x);
    }
  }

  /** Attention replayed from a graph: its split counters are reset by each launch, so every replay combines. */
  @Test
  void attentionReplaysFromAGraph() {
    int heads = 8, kvHeads = 2, hd = 64, capacity = 300;
    ComputeOps.KvStore kg = gpu.allocateKv(1, 1, kvHeads, hd, capacity);
    ComputeOps.KvStore kc = cpu.allocateKv(1, 1, kvHeads, hd, capacity);
    float scale = (float) (1.0 / Math.sqrt(hd));
    int[] hist = range(0, 200);
    ComputeOps.Indices[] p = indices(hist);
    ComputeOps.Indices[] s = indices(new int[200]);
    Pair q = pair(gaussian(200 * heads * hd, 1), 200, heads * hd);
    Pair k = pair(gaussian(200 * kvHeads * hd, 2), 200, kvHeads * hd);
    Pair v = pair(gaussian(200 * kvHeads * hd, 3), 200, kvHeads * hd);
    Pair o = pair(null, 200, heads * hd);
    gpu.attend(kg, 0, q.g, k.g, v.g, 200, heads, s[0], p[0], scale, o.g);
    cpu.attend(kc, 0, q.c, k.c, v.c, 200, heads, s[1], p[1], scale, o.c);
    ComputeOps.Indices[] p1 = indices(new int[] {200});
    ComputeOps.Indices[] s1 = indices(new int[] {0});
    Pair q1 = pair(gaussian(heads * hd, 4), 1, heads * hd);
    Pair k1 = pair(gaussian(kvHeads * hd, 5), 1, kvHeads * hd);
    Pair v1 = pair(gaussian(kvHeads * hd, 6), 1, kvHeads * hd);
    Pair o1 = pair(null, 1, heads * hd);
    gpu.attend(kg, 0, q1.g, k1.g, v1.g, 1, heads, s1[0], p1[0], scale, o1.g);
    ComputeOps.Replay r = gpu.record(() -> gpu.attend(kg, 0, q1.g, k1.g, v1.g, 1, heads, s1[0], p1[0], scale, o1.g));
    for (int step = 200; step < 203; step++) {
      gpu.write(p1[0], new int[] {step});
      cpu.write(p1[1], new int[] {step});
      float[] qv = gaussian(heads * hd, 10 + step);
      gpu.write(q1.g, qv, 1);
      cpu.write(q1.c, qv, 1);
      r.run();
      cpu.attend(kc, 0, q1.c, k1.c, v1.c, 1, heads, s1[1], p1[1], scale, o1.c);
      float[][] ab = read(o1);
      for (int i = 0; i < ab[0].length; i++) {
        assertTrue(Math.abs(ab[0][i] - ab[1][i]) <= 2e-5f, "step " + step + " attention " + i + ": gpu " + ab[0][i] + ", cpu "
            + ab[1][i]);
      }
    }
    r.close();
  }

  /** ropeAttend (rotation and KV store in one kernel) against the CPU's rope, rope and attend. */
  @ParameterizedTest
  @CsvSource({"1,4,2,8,1", "3,6,3,4,5", "1,20,5,128,70", "2,20,5,128,511"})
  void fusedRopeAndStoreMatchTheCpu(int rows, int heads, int kvHeads, int hd, int startPos) {
    int capacity = startPos + rows + 1;
    ComputeOps.RopeTable rg = gpu.uploadRope(hd, 500000.0, capacity);
    ComputeOps.RopeTable rc = cpu.uploadRope(hd, 500000.0, capacity);
    ComputeOps.KvStore kg = gpu.allocateKv(2, 2, kvHeads, hd, capacity);
    ComputeOps.KvStore kc = cpu.allocateKv(2, 2, kvHeads, hd, capacity);
    float scale = (float) (1.0 / Math.sqrt(hd));
    int[][] calls = {range(0, startPos), range(startPos, startPos + rows)};
    for (int[] pos : calls) {
      int m = pos.length;
      int[] seq = new int[m];
      java.util.Arrays.fill(seq, 1);
      ComputeOps.Indices[] p = indices(pos);
      ComputeOps.Indices[] sq = indices(seq);
      Pair q = pair(gaussian(m * heads * hd, m), m, heads * hd);
      Pair k = pair(gaussian(m * kvHeads * hd, m + 1), m, kvHeads * hd);
      Pair v = pair(gaussian(m * kvHeads * hd, m + 2), m, kvHeads * hd);
      Pair o = pair(null, m, heads * hd);
      gpu.ropeAttend(kg, 1, rg, q.g, k.g, v.g, m, heads, sq[0], p[0], scale, o.g);
      cpu.ropeAttend(kc, 1, rc, q.c, k.c, v.c, m, heads, sq[1], p[1], scale, o.c);
      assertExact(q);
      assertExact(k);
      float[][] ab = read(o);
      for (int i = 0; i < ab[0].length; i++) {
        assertTrue(Math.abs(ab[0][i] - ab[1][i]) <= 2e-5f, "attention " + i + ": gpu " + ab[0][i] + ", cpu " + ab[1][i]);
      }
    }
    ComputeOps.Indices[] p = indices(new int[] {capacity});
    ComputeOps.Indices[] sq = indices(new int[] {1});
    Pair q = pair(gaussian(heads * hd, 1), 1, heads * hd);
    Pair k = pair(gaussian(kvHeads * hd, 1), 1, kvHeads * hd);
    Pair o = pair(null, 1, heads * hd);
    assertThrows(ShapeException.class, () -> gpu.ropeAttend(kg, 1, rg, q.g, k.g, k.g, 1, heads, sq[0], p[0], scale, o.g));
  }

  static int[] range(int from, int to) {
    int[] r = new int[to - from];
    for (int i = 0; i < r.length; i++) {
      r[i] = from + i;
    }
    return r;
  }

  @Test
  void recordedWorkReplaysWithTheCurrentContents() {
    Pair x = pair(new float[] {1, 2, 3}, 1, 3);
    Pair y = pair(new float[] {10, 20, 30}, 1, 3);
    ComputeOps.Replay r = gpu.record(() -> gpu.add(x.g, y.g, 1));
    float[] out = new float[3];
    gpu.read(x.g, out, 1);
    assertArrayEquals(new float[] {1, 2, 3}, out, "recording does not run the work");
    r.run();
    r.run();
    gpu.read(x.g, out, 1);
    assertArrayEquals(new float[] {21, 42, 63}, out);
    gpu.write(y.g, new float[] {1, 1, 1}, 1);
    r.run();
    gpu.read(x.g, out, 1);
    assertArrayEquals(new float[] {22, 43, 64}, out);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> gpu.record(() -> gpu.allocate(1, 1)));
    assertTrue(e.getMessage().contains("record"), e.getMessage());
    r.close();
    assertThrows(IllegalStateException.class, r::run);
  }

  @Test
  void badInputIsRejectedWithTheReason() {
    ComputeOps.Activations c = cpu.allocate(1, 3);
    ComputeOps.Activations g = gpu.allocate(1, 3);
    assertThrows(IllegalArgumentException.class, () -> gpu.add(g, c, 1));
    assertThrows(ShapeException.class, () -> gpu.add(g, gpu.allocate(1, 4), 1));
    PackedTernary grouped = TernaryQuantization.absmean(gaussian(4 * 64, 1), 4, 64, 32).toPacked();
    ShapeException e = assertThrows(ShapeException.class, () -> gpu.uploadTernary(grouped, null));
    assertTrue(e.getMessage().contains("scale"), e.getMessage());
    ComputeOps.Indices t = gpu.allocateIndices(1);
    gpu.write(t, new int[] {40});
    ComputeOps.Table tab = gpu.uploadTable(gaussian(10 * 3, 1), null, null, 10, 3);
    ShapeException v = assertThrows(ShapeException.class, () -> gpu.embed(tab, t, 1, g));
    assertTrue(v.getMessage().contains("vocabulary"), v.getMessage());
    gpu.close();
    assertThrows(IllegalStateException.class, () -> gpu.allocate(1, 1));
    assertEquals("cuda", gpu.backendName());
  }
}
