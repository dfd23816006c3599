package dev.aphelion.examples.fashion.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.aphelion.core.error.ShapeException;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GemmTest {
  private static final GemmKernel VECTOR = new VectorGemm();
  private static final GemmKernel SCALAR = new ScalarGemm();
  private static final int[] SIZES = {1, 3, 4, 5, 17, 31, 32, 33, 63, 64, 65};

  private static float[] random(SplittableRandom r, int n, boolean integers) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = integers ? r.nextInt(-127, 128) : (float) (r.nextDouble() * 2 - 1);
    }
    return a;
  }

  @Test
  void vectorMatchesScalarOnOddShapes() {
    SplittableRandom r = new SplittableRandom(1);
    for (int m : SIZES) {
      for (int k : new int[] {1, 3, 17, 64, 65}) {
        for (int n : SIZES) {
          float[] a = random(r, m * k + 3, false);
          float[] b = random(r, k * n + 5, false);
          float[] c0 = random(r, m * n + 2, false);
          float[] c1 = c0.clone();
          boolean acc = ((m + n) & 1) == 0;
          VECTOR.matmul(a, 3, b, 5, c0, 2, m, k, n, acc);
          SCALAR.matmul(a, 3, b, 5, c1, 2, m, k, n, acc);
          // fused multiply-add rounds once per step, the scalar loop twice: bound by k·ulp
          for (int i = 0; i < c0.length; i++) {
            assertEquals(c1[i], c0[i], 1e-5f * (k + 1), "m=" + m + " k=" + k + " n=" + n + " i=" + i);
          }
          assertEquals(c1[0], c0[0]); // untouched prefix
          assertEquals(c1[1], c0[1]);
        }
      }
    }
  }

  @Test
  void integerProductsAreExact() {
    // ternary weights times int8 activations, the trainer's forward pass: exact in float
    SplittableRandom r = new SplittableRandom(2);
    int m = 7;
    int k = 1021;
    int n = 67;
    float[] x = random(r, m * k, true);
    float[] w = new float[k * n];
    for (int i = 0; i < w.length; i++) {
      w[i] = r.nextInt(-1, 2);
    }
    float[] c = new float[m * n];
    float[] cs = new float[m * n];
    VECTOR.matmul(x, 0, w, 0, c, 0, m, k, n, false);
    SCALAR.matmul(x, 0, w, 0, cs, 0, m, k, n, false);
    assertArrayEquals(cs, c);
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        long s = 0;
        for (int p = 0; p < k; p++) {
          s += (long) x[i * k + p] * (long) w[p * n + j];
        }
        assertEquals((float) s, c[i * n + j]);
      }
    }
  }

  @Test
  void facadeUsesTheVectorKernelWhenTheModuleIsPresent() {
    // surefire runs with --add-modules jdk.incubator.vector
    assertEquals(VectorGemm.class, Gemm.kernel().getClass());
  }

  @Test
  void ternarizeVectorMatchesScalarAndTheLibrary() {
    SplittableRandom r = new SplittableRandom(4);
    for (int cols : new int[] {1, 3, 15, 16, 17, 63, 64, 65, 784}) {
      int rows = 5;
      float[] w = random(r, rows * cols + 2, false);
      // exact ties at ±0.5·scale: a row of {1, -1, 0.5... } has scale known in advance
      for (int c = 0; c < cols; c++) {
        w[2 + c] = c % 2 == 0 ? 1f : -1f;
      }
      for (int c = 0; c < cols; c++) {
        w[2 + cols + c] = 0f; // all-zero row: scale 1
      }
      float[] q1 = new float[rows * cols];
      float[] q2 = new float[rows * cols];
      float[] s1 = new float[rows];
      float[] s2 = new float[rows];
      VECTOR.ternarizeRows(w, 2, rows, cols, q1, s1);
      SCALAR.ternarizeRows(w, 2, rows, cols, q2, s2);
      assertArrayEquals(q2, q1, "cols " + cols);
      assertArrayEquals(s2, s1, "cols " + cols);
      var lib = dev.aphelion.tritter.ternary.TernaryQuantization.absmean(
          java.util.Arrays.copyOfRange(w, 2, 2 + rows * cols), rows, cols, cols);
      assertArrayEquals(lib.scales(), s1);
      byte[] t = lib.trits();
      for (int i = 0; i < t.length; i++) {
        assertEquals(t[i], (int) q1[i], "cols " + cols + " i " + i);
      }
    }
  }

  @Test
  void smallExample() {
    float[] a = {1, 2, 3, 4, 5, 6}; // 2×3
    float[] b = {1, 0, 0, 1, 1, 1}; // 3×2
    float[] c = new float[4];
    Gemm.matmul(a, 0, b, 0, c, 0, 2, 3, 2, false);
    assertArrayEquals(new float[] {4, 5, 10, 11}, c);
    Gemm.matmul(a, 0, b, 0, c, 0, 2, 3, 2, true);
    assertArrayEquals(new float[] {8, 10, 20, 22}, c);
  }

  @Test
  void transposeOnOddShapes() {
    SplittableRandom r = new SplittableRandom(3);
    for (int rows : SIZES) {
      for (int cols : new int[] {1, 33, 65}) {
        float[] s = random(r, rows * cols + 1, false);
        float[] d = new float[rows * cols];
        Gemm.transpose(s, 1, rows, cols, d, 0);
        for (int i = 0; i < rows; i++) {
          for (int j = 0; j < cols; j++) {
            assertEquals(s[1 + i * cols + j], d[j * rows + i]);
          }
        }
      }
    }
  }

  @Test
  void shapeErrors() {
    float[] a = new float[6];
    var e = assertThrows(ShapeException.class,
        () -> Gemm.matmul(a, 0, a, 0, a, 0, 2, 3, 3, false));
    assertEquals(true, e.getMessage().contains("does not fit"), e.getMessage());
    assertThrows(ShapeException.class, () -> Gemm.matmul(a, 0, a, 0, a, 0, -1, 1, 1, false));
    assertThrows(ShapeException.class, () -> Gemm.transpose(a, 1, 2, 3, a, 0));
  }
}
