package dev.aphelion.tritter.dense;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.kernel.RowPool;
import dev.aphelion.tritter.kernel.Vectorization;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class DenseMatmulTest {

  private static final RowPool POOL = RowPool.create(3);
  private static final DenseMatmul SCALAR = new DenseMatmul(Vectorization.scalar(), RowPool.create(1));
  private static final DenseMatmul VECTOR = new DenseMatmul(Vectorization.vector(), POOL);

  @AfterAll
  static void close() {
    POOL.close();
  }

  @Test
  void seedVector() {
    float[] w = {1, -1, 1, -1, 1, 1, 0, 0};
    for (DenseMatmul m : new DenseMatmul[] {SCALAR, VECTOR}) {
      float[] y = new float[2];
      m.gemv(w, 2, 4, new float[] {1, 2, 3, 4}, y, new float[] {1, 1});
      assertArrayEquals(new float[] {-1f, 4f}, y);
    }
  }

  @Test
  void vectorWithinBoundOnOddShapes() {
    Random rnd = new Random(1);
    for (int cols : new int[] {1, 3, 17, 63, 64, 65, 1021, 2100}) {
      for (int rows : new int[] {1, 3, 5, 67, 130}) {
        for (int batch : new int[] {1, 3, 4, 9}) {
          float[] w = random(rnd, rows * cols);
          float[] x = random(rnd, batch * cols);
          float[] bias = rnd.nextBoolean() ? random(rnd, rows) : null;
          float[] ys = new float[batch * rows];
          float[] yv = new float[batch * rows];
          SCALAR.gemm(w, rows, cols, x, batch, ys, bias);
          VECTOR.gemm(w, rows, cols, x, batch, yv, bias);
          double u = Math.ulp(1f) / 2;
          for (int b = 0; b < batch; b++) {
            for (int r = 0; r < rows; r++) {
              double sum = 0;
              for (int c = 0; c < cols; c++) {
                sum += Math.abs(w[r * cols + c] * x[b * cols + c]);
              }
              int n = cols + 2;
              double bound = 2 * n * u / (1 - n * u) * sum + (bias == null ? 0 : 2 * u * Math.abs(bias[r])) + Float.MIN_NORMAL;
              double d = Math.abs(ys[b * rows + r] - yv[b * rows + r]);
              assertTrue(d <= bound, rows + "x" + cols + " batch " + batch + ": " + d + " > " + bound);
            }
          }
        }
      }
    }
  }

  @Test
  void shapeMismatchesAreNamed() {
    ShapeException e = assertThrows(ShapeException.class, () -> VECTOR.gemv(new float[6], 2, 3, new float[2], new float[2]));
    assertTrue(e.getMessage().contains("x has length 2"), e.getMessage());
    assertThrows(ShapeException.class, () -> VECTOR.gemv(new float[5], 2, 3, new float[3], new float[2]));
    assertThrows(ShapeException.class, () -> VECTOR.gemv(new float[6], 2, 3, new float[3], new float[3]));
    assertThrows(ShapeException.class, () -> VECTOR.gemv(new float[6], 2, 3, new float[3], new float[2], new float[3]));
  }

  private static float[] random(Random rnd, int n) {
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (float) rnd.nextGaussian();
    }
    return f;
  }
}
