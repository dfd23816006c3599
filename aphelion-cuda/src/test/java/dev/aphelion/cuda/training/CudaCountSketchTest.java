package dev.aphelion.cuda.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.cuda.driver.CudaContext;
import dev.aphelion.cuda.driver.CudaDriver;
import dev.aphelion.tritter.compress.CompressionConfig;
import dev.aphelion.tritter.compress.GradientCompressor;
import dev.aphelion.tritter.compress.GradientEncoding;
import dev.aphelion.tritter.compress.TernaryCompressedGradient;
import dev.aphelion.tritter.kernel.Vectorization;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** GPU count sketch against the CPU compressor, byte for byte (both rounds); skipped without a usable GPU. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaCountSketchTest {

  private CudaContext ctx;

  @BeforeAll
  void open() {
    if (CudaDriver.probe().available()) {
      ctx = CudaContext.create(0);
    }
  }

  @AfterAll
  void close() {
    if (ctx != null) {
      ctx.close();
    }
  }

  private static void assumeGpu() {
    CudaDriver.Probe p = CudaDriver.probe();
    Assumptions.assumeTrue(p.available(), () -> "skipped, no usable CUDA device: " + p.reason());
  }

  @ParameterizedTest(name = "n {0} ratio {1} rows {2} clip {3}")
  @CsvSource({
    "1,0.5,1,0", "3,0.9,3,0", "17,0.5,3,0", "63,0.3,5,0", "64,0.25,1,0", "65,0.2,3,0",
    "1021,0.05,3,0", "5003,0.03125,3,2.5", "40000,0.01,3,0", "70001,0.05,5,0", "4097,0.0625,15,0.5",
    "300007,0.0033333333333333335,3,1.5", "1000003,0.03125,3,0"
  })
  void sameBytesAndResidualAsTheCpu(int n, double ratio, int rows, double clip) {
    assumeGpu();
    CompressionConfig cfg = CompressionConfig.builder().compressionRatio(ratio).seed(0xC5L + n).clipNorm(clip)
        .encoding(GradientEncoding.COUNT_SKETCH).sketchRows(rows).build();
    GradientCompressor cpu = new GradientCompressor(cfg, n, Vectorization.scalar());
    GradientCompressor vec = new GradientCompressor(cfg, n, Vectorization.get());
    Random rnd = new Random(n * 31L + rows);
    try (CudaCountSketch gpu = new CudaCountSketch(ctx, cfg, n)) {
      for (int step = 0; step < 4; step++) {
        float[] grad = new float[n];
        for (int i = 0; i < n; i++) {
          grad[i] = (float) rnd.nextGaussian() * (rnd.nextInt(40) == 0 ? 8f : 1f);
        }
        if (step == 2 && n > 2) {
          grad[1] = 0f;
          grad[2] = -0f;
        }
        if (step == 3) {
          java.util.Arrays.fill(grad, 0f); // an all-zero step after the residual moved
        }
        TernaryCompressedGradient expect = cpu.compress(grad);
        TernaryCompressedGradient got = gpu.compress(grad);
        assertArrayEquals(expect.toBytes(), got.toBytes(), "table, step " + step);
        assertArrayEquals(expect.toBytes(), vec.compress(grad).toBytes(), "vector path table, step " + step);
        int[] chosen = cpu.select(expect);
        assertArrayEquals(chosen, vec.select(expect), "selection, step " + step);
        TernaryCompressedGradient values = cpu.values(expect, chosen);
        assertArrayEquals(values.toBytes(), gpu.values(chosen).toBytes(), "values, step " + step);
        vec.values(expect, chosen);
        assertArrayEquals(cpu.residual(), gpu.residual(), "residual, step " + step);
      }
      assertEquals(4, gpu.step());
    }
  }

  @Test
  void otherEncodingsAndAMissingRoundTwoAreRefused() {
    assumeGpu();
    assertThrows(ConfigException.class, () -> new CudaCountSketch(ctx, CompressionConfig.builder().build(), 10));
    CompressionConfig cfg = CompressionConfig.builder().compressionRatio(0.5).encoding(GradientEncoding.COUNT_SKETCH).build();
    try (CudaCountSketch gpu = new CudaCountSketch(ctx, cfg, 1000)) {
      assertThrows(IllegalStateException.class, () -> gpu.values(new int[0]));
      gpu.compress(new float[1000]);
      assertThrows(IllegalStateException.class, () -> gpu.compress(new float[1000]));
    }
  }
}
