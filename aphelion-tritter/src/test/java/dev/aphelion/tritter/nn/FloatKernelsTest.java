package dev.aphelion.tritter.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.aphelion.tritter.kernel.Vectorization;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class FloatKernelsTest {

  static final int[] SIZES = {0, 1, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 1021};

  @Test
  void vectorMatchesScalarOnOddSizes() {
    Assumptions.assumeTrue(Vectorization.vectorUnavailableReason().isEmpty(), "Vector API unavailable");
    FloatKernels s = FloatKernels.of(Vectorization.scalar());
    FloatKernels v = FloatKernels.of(Vectorization.vector());
    SplittableRandom r = new SplittableRandom(5);
    for (int n : SIZES) {
      int off = 3;
      float[] a = new float[n + off];
      float[] b = new float[n + off];
      byte[] q = new byte[n + off];
      double l1 = 0;
      for (int i = 0; i < n + off; i++) {
        a[i] = (float) r.nextGaussian();
        b[i] = (float) r.nextGaussian();
        q[i] = (byte) (r.nextInt(255) - 127);
        if (i >= off) {
          l1 += Math.abs(a[i] * b[i]) + Math.abs(q[i] * b[i]);
        }
      }
      if (n > 0) {
        q[off] = -128;
        q[off + n - 1] = 127;
      }
      // Float sums in another order: within n·ulp-ish of the sum of magnitudes.
      double tol = 1e-6 * (l1 + 1) * Math.max(1, Math.log(n + 1));
      assertEquals(s.dot(a, off, b, off, n), v.dot(a, off, b, off, n), tol, "dot n=" + n);
      assertEquals(s.sumSquares(a, off, n), v.sumSquares(a, off, n), tol, "sumSquares n=" + n);
      assertEquals(s.dotInt8(q, off, b, off, n), v.dotInt8(q, off, b, off, n), tol * 128, "dotInt8 n=" + n);
      float[] y1 = b.clone();
      float[] y2 = b.clone();
      s.axpy(0.75f, a, off, y1, off, n);
      v.axpy(0.75f, a, off, y2, off, n);
      for (int i = 0; i < y1.length; i++) {
        assertEquals(y1[i], y2[i], 1e-6 * (Math.abs(y1[i]) + 1), "axpy n=" + n);
      }
      y1 = b.clone();
      y2 = b.clone();
      s.axpyInt8(0.01f, q, off, y1, off, n);
      v.axpyInt8(0.01f, q, off, y2, off, n);
      for (int i = 0; i < y1.length; i++) {
        assertEquals(y1[i], y2[i], 1e-6 * (Math.abs(y1[i]) + 1), "axpyInt8 n=" + n);
      }
    }
  }

  @Test
  void scalarIsExactOnSmallIntegers() {
    FloatKernels s = new ScalarFloatKernels();
    assertEquals(-2f, s.dot(new float[] {1, 2, 3, 4}, 0, new float[] {1, -1, 1, -1}, 0, 4));
    assertEquals(30f, s.sumSquares(new float[] {1, 2, 3, 4}, 0, 4));
    assertEquals(-127f * 2 + 127f, s.dotInt8(new byte[] {-127, 127}, 0, new float[] {2, 1}, 0, 2));
  }
}
