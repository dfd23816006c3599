package dev.aphelion.tritter.ternary;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.aphelion.tritter.kernel.RowPool;
import dev.aphelion.tritter.kernel.Vectorization;
import dev.aphelion.tritter.quant.Int8Activations;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The activation-parallel table kernel ({@link PanamaLutKernels}) in this JVM, called directly (so
 * also on the small groups the front door keeps away from it) and through {@link TernaryMatmul}:
 * bit for bit against the scalar reference. The child JVMs of {@link Vector256KernelsTest} (256-bit)
 * and {@link Vector512KernelsTest} (512-bit) run the same {@link #mismatches}.
 */
class LutKernelsTest {

  @Test
  void tableKernelMatchesTheScalarReferenceBitForBit() {
    Assumptions.assumeTrue(Vectorization.get().mode() == Vectorization.Mode.VECTOR && PanamaTernaryKernels.int8VectorBits() > 0);
    assertEquals(0, mismatches(new Random(11)));
  }

  @Test
  void frontDoorPicksTheTableKernelFromSixteenTokensOn256BitVectors() {
    Assumptions.assumeTrue(Vectorization.get().mode() == Vectorization.Mode.VECTOR && PanamaTernaryKernels.int8VectorBits() > 0);
    PackedTernary w = TernaryMatmulTest.randomWeights(new Random(3), 40, 300, 300, 0.3, 0.3);
    // 256-bit vectors only: at 512 bits the per-row four-token kernel measured faster
    String lut = PanamaLutKernels.bits() == 256 ? "alut256" : "lut512x4";
    assertEquals(lut, TernaryMatmul.get().int8KernelName(w, 16));
    assertEquals(lut, TernaryMatmul.get().int8KernelName(w, 513));
    assertEquals(PanamaTernaryKernels.int8Kernel(w, 8), TernaryMatmul.get().int8KernelName(w, 15));
    // groups of 4 columns: one quad a group, left to the per-row kernels
    PackedTernary small = TernaryMatmulTest.randomWeights(new Random(3), 40, 300, 4, 0.3, 0.3);
    assertEquals(PanamaTernaryKernels.int8Kernel(small, 16), TernaryMatmul.get().int8KernelName(small, 16));
    assertEquals(false, TernaryMatmul.get().int8KernelName(small, 16).startsWith("alut"));
    PackedTernary prepared = TernaryMatmulTest.randomWeights(new Random(4), 40, 300, 300, 0.3, 0.3);
    TernaryMatmul.get().prepareInt8(prepared);
    assertEquals(PanamaLutKernels.bits() == 256, prepared.lutLayout() instanceof LutLayout);
  }

  /**
   * Odd shapes (rows and columns not multiples of anything the kernel tiles by), groups that end
   * inside a chunk and groups of one quad, batches around one and two token tiles, all-zero rows,
   * and the largest short sums (all weights +1 or -1 times +-127 over groups of many chunks); prints
   * one line per mismatch.
   *
   * @return the number of mismatching cases
   */
  static int mismatches(Random rnd) {
    int bad = 0;
    try (RowPool three = RowPool.create(3)) {
      int[] cols = {1, 5, 33, 130, 1021};
      int[] rows = {1, 7, 33, 97};
      int[] batches = {1, 15, 16, 17, 31, 32, 33, 50};
      for (int c : cols) {
        for (int r : rows) {
          for (int group : new int[] {c, Math.min(c, 4), Math.min(c, 7), Math.max(1, c / 3), Math.min(c, 129)}) {
            int batch = batches[rnd.nextInt(batches.length)];
            bad += compare(rnd, three, r, c, group, batch, 0.3, 0.3, false) ? 0 : 1;
          }
        }
      }
      for (int batch : batches) {
        bad += compare(rnd, three, 70, 1100, 1100, batch, 0.3, 0.3, false) ? 0 : 1;
        bad += compare(rnd, three, 70, 1100, 260, batch, 0.3, 0.3, true) ? 0 : 1;
      }
      for (double plus : new double[] {1.0, 0.0}) {
        for (int c : new int[] {257, 4099}) {
          for (int batch : new int[] {16, 33}) {
            bad += compare(rnd, three, 33, c, c, batch, plus, 1.0 - plus, false) ? 0 : 1;
          }
        }
      }
      // a larger shape, repeated so that C2 compiles the loops before the last checks
      for (int i = 0; i < 12; i++) {
        bad += compare(rnd, three, 257, 3001, 3001, 16 + i * 3, 0.3, 0.3, false) ? 0 : 1;
      }
    }
    return bad;
  }

  private static boolean compare(Random rnd, RowPool pool, int rows, int cols, int group, int batch, double plus, double minus,
      boolean zeroRows) {
    PackedTernary w = TernaryMatmulTest.randomWeights(rnd, rows, cols, group, plus, minus);
    if (zeroRows) {
      w = withZeroRows(w, rnd);
    }
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
    float[] yf = new float[batch * rows];
    new ScalarTernaryKernels().matmulInt8(w, x.segment(), x.scales(), batch, bias, ys, pool);
    PanamaLutKernels.matmulInt8(w, x.segment(), x.scales(), batch, bias, yv, pool);
    new TernaryMatmul(Vectorization.get(), pool).gemmInt8(w, x, yf, bias);
    for (int i = 0; i < ys.length; i++) {
      if (Float.floatToRawIntBits(ys[i]) != Float.floatToRawIntBits(yv[i])
          || Float.floatToRawIntBits(ys[i]) != Float.floatToRawIntBits(yf[i])) {
        System.out.println("MISMATCH alut " + rows + "x" + cols + " group " + group + " batch " + batch + " at " + i + ": " + ys[i]
            + " vs " + yv[i] + " (direct), " + yf[i] + " (" + PanamaTernaryKernels.int8Kernel(w, batch) + ")");
        return false;
      }
    }
    return true;
  }

  /** {@code w} with every third row's weights set to zero. */
  private static PackedTernary withZeroRows(PackedTernary w, Random rnd) {
    int rows = w.rows();
    int cols = w.cols();
    byte[] t = new byte[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        t[r * cols + c] = r % 3 == 0 ? 0 : (byte) w.trit(r, c);
      }
    }
    int groups = w.groupsPerRow();
    float[] s = new float[rows * groups];
    for (int i = 0; i < s.length; i++) {
      s[i] = 0.01f + rnd.nextFloat();
    }
    return PackedTernary.fromTrits(t, rows, cols, s, w.groupSize());
  }
}
