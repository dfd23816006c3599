package dev.aphelion.tritter.ternary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.tritter.kernel.RowPool;
import dev.aphelion.tritter.kernel.Vectorization;
import dev.aphelion.tritter.quant.Int8Activations;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.ShortVector;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The 256-bit (AVX2-class) path: child JVMs with {@code -XX:MaxVectorSize=32} (preferred species
 * 256 bits even on AVX-512 hardware) and with {@code -XX:UseAVX=2} (AVX2 instructions only) must run
 * the int8 and float kernels on vectors, not the scalar hand-over, the int8 kernel on the word
 * kernel where the groups suit it and on the table kernel where they do not, batches of 16 tokens or
 * more on the activation-parallel table kernel ({@link LutKernelsTest#mismatches}); int8 results (and
 * {@code dot}) bit-identical to the scalar reference on odd shapes and every token tile, float
 * results within the documented bound.
 */
class Vector256KernelsTest {

  /** Runs in the child JVM: prints the kernel widths, then one line per mismatch and a summary. */
  public static final class Child {
    public static void main(String[] args) {
      System.out.println("PREFERRED=" + ShortVector.SPECIES_PREFERRED.vectorBitSize());
      System.out.println("INT8_BITS=" + PanamaTernaryKernels.int8VectorBits());
      System.out.println("FLOAT_BITS=" + PanamaTernaryKernels.floatVectorBits());
      System.out.println("MODE=" + Vectorization.get().mode());
      System.out.println("INT8_KERNEL_ONE_GROUP=" + PanamaTernaryKernels.int8Kernel(TernaryMatmulTest.randomWeights(new Random(1), 3, 300, 300, 0.3, 0.3)));
      System.out.println("INT8_KERNEL_GROUP_4=" + PanamaTernaryKernels.int8Kernel(TernaryMatmulTest.randomWeights(new Random(1), 3, 300, 4, 0.3, 0.3)));
      System.out.println("INT8_KERNEL_BATCH_8=" + PanamaTernaryKernels.int8Kernel(TernaryMatmulTest.randomWeights(new Random(1), 3, 300, 300, 0.3, 0.3), 8));
      System.out.println("INT8_KERNEL_BATCH_16=" + PanamaTernaryKernels.int8Kernel(TernaryMatmulTest.randomWeights(new Random(1), 3, 300, 300, 0.3, 0.3), 16));
      System.out.println("LUT_BITS=" + PanamaLutKernels.bits());
      int lutMismatches = LutKernelsTest.mismatches(new Random(16));
      System.out.println("LUT_MISMATCHES=" + lutMismatches);
      PackedTernary prepared = TernaryMatmulTest.randomWeights(new Random(2), 3, 300, 300, 0.3, 0.3);
      boolean before = prepared.kernelLayout() != null;
      TernaryMatmul.get().prepareInt8(prepared);
      System.out.println("PREPARED=" + (!before && prepared.kernelLayout() instanceof WordLayout));
      try (RowPool one = RowPool.create(1); RowPool three = RowPool.create(3)) {
        TernaryMatmul scalar = new TernaryMatmul(Vectorization.scalar(), one);
        TernaryMatmul vector = new TernaryMatmul(Vectorization.vector(), three);
        Random rnd = new Random(256);
        int cases = 0;
        int mismatches = 0;
        int[] cols = {1, 3, 17, 63, 64, 65, 1021};
        int[] rows = {1, 5, 31, 33, 289};
        for (int c : cols) {
          for (int r : rows) {
            for (int group : new int[] {c, Math.min(c, 4), Math.min(c, 7), Math.max(1, c / 3)}) {
              mismatches += compare(scalar, vector, rnd, r, c, group, 1 + rnd.nextInt(5), 0.3, 0.3) ? 0 : 1;
              mismatches += compareFloat(scalar, vector, rnd, r, c, group, 1 + rnd.nextInt(5)) ? 0 : 1;
              cases += 2;
            }
          }
        }
        // edge values: all +1 / all -1 weights times +-127 over long groups (largest short partial sums)
        for (double plus : new double[] {1.0, 0.0}) {
          for (int c : new int[] {257, 4099}) {
            mismatches += compare(scalar, vector, rnd, 33, c, c, 2, plus, 1.0 - plus) ? 0 : 1;
            cases++;
          }
        }
        // every token tile of the word kernel (1-3 inline, 4 and 8 on unpacked weights), segment-crossing groups
        for (int batch : new int[] {4, 8, 9, 13}) {
          for (int c : new int[] {1100, 2100}) {
            mismatches += compare(scalar, vector, rnd, 70, c, c / 2 + 1, batch, 0.3, 0.3) ? 0 : 1;
            mismatches += compare(scalar, vector, rnd, 33, c, c, batch, 1.0, 0.0) ? 0 : 1;
            cases += 2;
          }
        }
        // several matrices on one input in one call (q/k/v, gate/up), against the scalar reference one by one
        for (int[][] shape : TernaryMatmulTest.SHARED_SHAPES) {
          for (int batch : new int[] {1, 3, 4, 9}) {
            String m = TernaryMatmulTest.sharedMismatch(scalar, vector, rnd, shape[0], shape[1][0], shape[2], batch);
            if (m != null) {
              System.out.println(m);
              mismatches++;
            }
            cases++;
          }
        }
        // a larger shape, repeated so that the JIT compiles the vector loops (C2) before the last checks
        for (int i = 0; i < 40; i++) {
          mismatches += compare(scalar, vector, rnd, 257, 3001, 128, 1, 0.3, 0.3) ? 0 : 1;
          mismatches += compare(scalar, vector, rnd, 257, 3001, 3001, 1 + i % 9, 0.3, 0.3) ? 0 : 1;
          mismatches += compareFloat(scalar, vector, rnd, 257, 3001, 128, 1) ? 0 : 1;
          cases += 3;
        }
        for (int n : new int[] {0, 1, 3, 63, 64, 65, 1021, 9000, 20000}) {
          byte[] a = PackedTernaryTest.randomTrits(rnd, n);
          byte[] bb = PackedTernaryTest.randomTrits(rnd, n);
          if (scalar.dot(a, bb) != vector.dot(a, bb)) {
            System.out.println("MISMATCH dot n " + n + ": " + scalar.dot(a, bb) + " vs " + vector.dot(a, bb));
            mismatches++;
          }
          cases++;
        }
        System.out.println("CASES=" + cases + " MISMATCHES=" + mismatches);
      }
    }

    /** Float path: within the bound {@link TernaryMatmul} documents (the summation order differs). */
    private static boolean compareFloat(TernaryMatmul scalar, TernaryMatmul vector, Random rnd, int rows, int cols, int group,
        int batch) {
      PackedTernary w = TernaryMatmulTest.randomWeights(rnd, rows, cols, group, 0.3, 0.3);
      float[] x = TernaryMatmulTest.randomFloats(rnd, batch * cols);
      float[] bias = rnd.nextBoolean() ? TernaryMatmulTest.randomFloats(rnd, rows) : null;
      float[] ys = new float[batch * rows];
      float[] yv = new float[batch * rows];
      scalar.gemm(w, x, batch, ys, bias);
      vector.gemm(w, x, batch, yv, bias);
      for (int b = 0; b < batch; b++) {
        for (int r = 0; r < rows; r++) {
          double bound = TernaryMatmulTest.floatBound(w, x, b, r, bias);
          float d = Math.abs(ys[b * rows + r] - yv[b * rows + r]);
          if (!(d <= bound)) {
            System.out.println("MISMATCH float " + rows + "x" + cols + " group " + group + " token " + b + " row " + r + ": "
                + ys[b * rows + r] + " vs " + yv[b * rows + r] + ", bound " + bound);
            return false;
          }
        }
      }
      return true;
    }

    private static boolean compare(TernaryMatmul scalar, TernaryMatmul vector, Random rnd, int rows, int cols, int group,
        int batch, double plus, double minus) {
      PackedTernary w = TernaryMatmulTest.randomWeights(rnd, rows, cols, group, plus, minus);
      byte[] q = new byte[batch * cols];
      boolean extreme = plus + minus >= 1.0;
      for (int i = 0; i < q.length; i++) {
        q[i] = extreme ? (byte) (plus == 1.0 ? 127 : -127) : (byte) (rnd.nextInt(255) - 127);
      }
      float[] scales = new float[batch];
      for (int b = 0; b < batch; b++) {
        scales[b] = 1e-3f + rnd.nextFloat();
      }
      Int8Activations x = Int8Activations.of(q, scales, batch, cols);
      float[] bias = rnd.nextBoolean() ? TernaryMatmulTest.randomFloats(rnd, rows) : null;
      float[] ys = new float[batch * rows];
      float[] yv = new float[batch * rows];
      scalar.gemmInt8(w, x, ys, bias);
      vector.gemmInt8(w, x, yv, bias);
      // bit-identical, NaN-safe
      for (int i = 0; i < ys.length; i++) {
        if (Float.floatToRawIntBits(ys[i]) != Float.floatToRawIntBits(yv[i])) {
          System.out.println("MISMATCH " + rows + "x" + cols + " group " + group + " batch " + batch + " at " + i + ": "
              + ys[i] + " vs " + yv[i]);
          return false;
        }
      }
      return true;
    }
  }

  /** {@code -XX:MaxVectorSize=32}: 256-bit species even on AVX-512 hardware (which may still use AVX-512VL instructions). */
  @Test
  void kernelsRunOn256BitVectorsAndMatchTheScalarReference() throws Exception {
    check256("-XX:MaxVectorSize=32");
  }

  /** {@code -XX:UseAVX=2}: AVX2 instructions only, what an AVX2 CPU (Zen 3, most Intel client CPUs) runs. */
  @Test
  void kernelsRunOnAvx2OnlyAndMatchTheScalarReference() throws Exception {
    check256("-XX:UseAVX=2");
  }

  static String runChild(String... flags) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new java.util.ArrayList<>(List.of(java, "-Xshare:auto", "--add-modules", "jdk.incubator.vector"));
    cmd.addAll(List.of(flags));
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Child.class.getName()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM timed out");
    String s = new String(out, StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), s);
    return s;
  }

  private static void check256(String flag) throws Exception {
    String s = runChild(flag);
    // a CPU without 256-bit vectors (SSE only) cannot test this path
    Assumptions.assumeTrue(s.contains("PREFERRED=256"), s);
    assertTrue(s.contains("MODE=VECTOR"), s);
    assertTrue(s.contains("INT8_BITS=256"), "int8 kernel handed over to the scalar reference: " + s);
    assertTrue(s.contains("FLOAT_BITS=256"), "float kernel handed over to the scalar reference: " + s);
    assertTrue(s.contains("INT8_KERNEL_ONE_GROUP=word256"), s);
    assertTrue(s.contains("INT8_KERNEL_GROUP_4=lut256"), s);
    assertTrue(s.contains("INT8_KERNEL_BATCH_8=word256"), s);
    assertTrue(s.contains("INT8_KERNEL_BATCH_16=alut256"), s);
    assertTrue(s.contains("LUT_BITS=256"), s);
    assertTrue(s.contains("LUT_MISMATCHES=0"), s);
    assertTrue(s.contains("PREPARED=true"), "prepareInt8 did not derive the word layout: " + s);
    assertTrue(s.contains(" MISMATCHES=0"), s);
    assertTrue(!s.contains("MISMATCH "), s);
  }
}
