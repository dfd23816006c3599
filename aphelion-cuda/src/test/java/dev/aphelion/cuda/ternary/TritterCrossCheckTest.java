package dev.aphelion.cuda.ternary;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.kernel.RowPool;
import dev.aphelion.tritter.kernel.Vectorization;
import dev.aphelion.tritter.quant.Int8Activations;
import dev.aphelion.tritter.ternary.PackedTernary;
import dev.aphelion.tritter.ternary.TernaryMatmul;
import dev.aphelion.tritter.ternary.TernaryQuantization;
import dev.aphelion.tritter.ternary.TernaryQuantized;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** GPU results against aphelion-tritter's own scalar kernels (PackedTernary, TernaryMatmul). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TritterCrossCheckTest {

  private CudaTernaryKernels k;
  private final TernaryMatmul scalar = new TernaryMatmul(Vectorization.scalar(), RowPool.create(1));

  @BeforeAll
  void open() {
    if (dev.aphelion.cuda.driver.CudaDriver.probe().available()) {
      k = CudaTernaryKernels.open(0);
    }
  }

  @AfterAll
  void close() {
    if (k != null) {
      k.close();
    }
  }

  @ParameterizedTest
  @CsvSource({"1,1,1", "3,17,2", "17,63,1", "64,65,8", "65,1021,9", "130,257,70", "33,300,129"})
  void absmeanAndInt8MatmulEqualTheCpuKernels(int rows, int cols, int batch) {
    GpuTest.assumeGpu();
    Random rnd = new Random(rows * 7L + cols * 13L + batch);
    float[] w = new float[rows * cols];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) rnd.nextGaussian() * 0.05f;
    }
    float[] x = new float[batch * cols];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    TernaryQuantized tq = TernaryQuantization.absmean(w, rows, cols, cols);
    PackedTernary packed = tq.toPacked();
    try (GpuTernaryMatrix g = k.quantizeAbsmean(w, rows, cols)) {
      assertArrayEquals(tq.scales(), g.rowScales());
      assertEquals(packed, g.toPackedTernary());
      float[] expect = new float[batch * rows];
      scalar.gemmInt8(packed, Int8Activations.quantize(Vectorization.scalar(), x, batch, cols), expect);
      assertArrayEquals(expect, k.matmulInt8(g, x, batch));
      float[] ref = new float[batch * rows];
      scalar.gemm(packed, x, batch, ref);
      float[] got = k.matmul(g, x, batch);
      for (int i = 0; i < ref.length; i++) {
        double abs = 0;
        for (int c = 0; c < cols; c++) {
          abs += Math.abs(x[(i / rows) * cols + c]);
        }
        // both sides within cols * 2^-24 * scale * sum|x| of the exact value
        double bound = 2.0 * (cols + 1) * 0x1p-24 * tq.scales()[i % rows] * abs + 1e-37;
        assertTrue(Math.abs(got[i] - ref[i]) <= bound, "y[" + i + "] = " + got[i] + ", cpu " + ref[i]);
      }
    }
  }

  @Test
  void uploadsPackedTernaryAndRejectsGroupScales() {
    GpuTest.assumeGpu();
    byte[] trits = {1, 0, -1, 1, -1, 0, 1, -1};
    PackedTernary p = PackedTernary.fromTrits(trits, 2, 4, new float[] {0.5f, 2f}, 4);
    try (GpuTernaryMatrix g = k.upload(p)) {
      assertEquals(p, g.toPackedTernary());
    }
    PackedTernary grouped = PackedTernary.fromTrits(trits, 2, 4, new float[] {1f, 2f, 3f, 4f}, 2);
    assertThrows(ShapeException.class, () -> k.upload(grouped));
  }
}
