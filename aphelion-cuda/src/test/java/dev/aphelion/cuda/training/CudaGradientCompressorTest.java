package dev.aphelion.cuda.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.cuda.driver.CudaContext;
import dev.aphelion.cuda.driver.CudaDriver;
import dev.aphelion.tritter.compress.CompressionConfig;
import dev.aphelion.tritter.compress.GradientCompressor;
import dev.aphelion.tritter.compress.GradientEncoding;
import dev.aphelion.tritter.compress.TernaryCompressedGradient;
import dev.aphelion.tritter.kernel.Vectorization;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** GPU VSA sketch against the CPU compressor, byte for byte; skipped without a usable GPU. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaGradientCompressorTest {

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

  private static CompressionConfig config(double ratio, long seed, double clip, boolean feedback) {
    return CompressionConfig.builder().compressionRatio(ratio).seed(seed).clipNorm(clip).errorFeedback(feedback)
        .encoding(GradientEncoding.VSA_SKETCH).build();
  }

  @ParameterizedTest(name = "n {0} ratio {1} clip {2} feedback {3}")
  @CsvSource({
    "1,0.01,0,true", "3,0.5,0,true", "17,0.05,0,true", "63,0.1,0,false", "64,0.0625,0,true",
    "65,0.03,0,true", "1021,0.02,0,true", "1021,0.0625,0,true", "5003,0.0625,0,true",
    "5003,0.011,2.5,true", "40000,0.01,0,true", "70001,0.05,0,true", "4097,0.0625,0.5,false",
    "120001,0.0033333333333333335,0,true", "300007,0.001,1.5,true"
  })
  void sameBytesResidualAndDecodeAsTheCpu(int n, double ratio, double clip, boolean feedback) {
    assumeGpu();
    CompressionConfig cfg = config(ratio, 0x5EEDL + n, clip, feedback);
    GradientCompressor cpu = new GradientCompressor(cfg, n, Vectorization.scalar());
    Random rnd = new Random(n * 31L + (long) (ratio * 1000));
    try (CudaGradientCompressor gpu = new CudaGradientCompressor(ctx, cfg, n)) {
      assertEquals(n, gpu.dimension());
      for (int step = 0; step < 4; step++) {
        float[] grad = new float[n];
        for (int i = 0; i < n; i++) {
          grad[i] = (float) rnd.nextGaussian() * (rnd.nextInt(40) == 0 ? 8f : 1f);
        }
        if (step == 2 && n > 2) {
          grad[1] = 0f;
          grad[2] = -0f;
        }
        TernaryCompressedGradient expect = cpu.compress(grad);
        TernaryCompressedGradient got = gpu.compress(grad);
        assertEquals(expect.sketchDimension(), gpu.sketchDimension());
        assertEquals(HexFormat.of().formatHex(expect.toBytes()), HexFormat.of().formatHex(got.toBytes()),
            "wire bytes of step " + step);
        float[] re = cpu.residual();
        float[] rg = gpu.residual();
        for (int i = 0; i < n; i++) {
          if (Float.floatToRawIntBits(re[i]) != Float.floatToRawIntBits(rg[i])) {
            throw new AssertionError("residual[" + i + "] at step " + step + ": gpu " + rg[i] + ", cpu " + re[i]);
          }
        }
        float[] de = cpu.decompress(expect);
        float[] dg = new float[n + 3];
        gpu.decompressInto(got, dg);
        for (int i = 0; i < n; i++) {
          if (Float.floatToRawIntBits(de[i]) != Float.floatToRawIntBits(dg[i])) {
            throw new AssertionError("decoded[" + i + "] at step " + step + ": gpu " + dg[i] + ", cpu " + de[i]);
          }
        }
      }
    }
  }

  /** The golden vector of docs/formats.md ("Encoding 2: VSA sketch"). */
  @Test
  void goldenVector() {
    assumeGpu();
    float[] g = new float[200];
    for (int i = 0; i < g.length; i++) {
      g[i] = ((i * 7919) % 201 - 100) / 64f;
    }
    try (CudaGradientCompressor gpu = new CudaGradientCompressor(ctx, config(0.07, 42, 0, true), 200)) {
      assertEquals(64, gpu.sketchDimension());
      assertEquals("4150474302020000c80000000000000000000000956eeb2f2632d7bd40000000cb3d113f624a6021162841519281229085804222972e50ef",
          HexFormat.of().formatHex(gpu.compress(g).toBytes()));
      assertEquals("4150474302020000c80000000100000000000000956eeb2f2632d7bd4000000071657c3f8114929601826402a29905004410545adfd93bfe",
          HexFormat.of().formatHex(gpu.compress(g).toBytes()));
    }
  }

  @Test
  void rejectsBadInput() {
    assumeGpu();
    assertThrows(ConfigException.class, () -> new CudaGradientCompressor(ctx,
        CompressionConfig.builder().encoding(GradientEncoding.HEAVY_HITTERS).build(), 10));
    try (CudaGradientCompressor gpu = new CudaGradientCompressor(ctx, config(0.1, 1, 0, true), 10)) {
      assertThrows(ShapeException.class, () -> gpu.compress(new float[9]));
      float[] bad = new float[10];
      bad[3] = Float.NaN;
      assertThrows(ShapeException.class, () -> gpu.compress(bad));
      assertArrayEquals(new float[10], gpu.residual());
      TernaryCompressedGradient msg = gpu.compress(new float[10]);
      assertThrows(ShapeException.class, () -> gpu.decompressInto(msg, new float[9]));
    }
  }

  @Test
  void sketchDimensionFollowsTheSpec() {
    assertEquals(64, CudaGradientCompressor.sketchDimension(200, 0.07));
    assertEquals(1, CudaGradientCompressor.sketchDimension(1, 0.01));
    assertEquals(1000, CudaGradientCompressor.sketchDimension(1000, 0.5));
  }
}
