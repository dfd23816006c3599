package dev.aphelion.cuda.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.backend.Backend;
import dev.aphelion.core.backend.BackendRegistry;
import dev.aphelion.cuda.driver.CudaDriver;
import dev.aphelion.tritter.io.WeightSource;
import dev.aphelion.tritter.model.DecoderConfig;
import dev.aphelion.tritter.model.DecoderModel;
import dev.aphelion.tritter.model.FfnActivation;
import dev.aphelion.tritter.model.Generation;
import dev.aphelion.tritter.model.KVCache;
import dev.aphelion.tritter.model.Precision;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The same {@link DecoderModel} on the cuda backend against the CPU: prefill, decode steps (the
 * replayed CUDA graph) and multi-sequence steps. Dense models must agree within {@code 1e-3 ·
 * max(1, max|logit|)} on every logit (measured on the H200: within {@code 3e-6}). Ternary models
 * quantize activations to int8, and a last-bit difference upstream (expf, a reduction order) can
 * round one activation the other way; that moves later logits by up to about 1% of the largest.
 * {@code BackendDecoderTest.lastBitNoiseStaysWithinTheGpuBounds} shows the same on the CPU alone
 * (the H200 run's only such case, llama-like-untied's prefill, moved exactly the logits that CPU
 * test moves: 1723 of 21070, worst 0.0255). So ternary calls may have up to 10% of their logits
 * beyond the bound, none beyond {@code 1e-2 · max(1, max|logit|)}. The differences are printed.
 */
class DecoderOnGpuTest {

  @BeforeEach
  void gpu() {
    CudaDriver.Probe p = CudaDriver.probe();
    Assumptions.assumeTrue(p.available(), () -> "skipped, no usable CUDA device: " + p.reason());
  }

  static Stream<Arguments> cases() {
    DecoderConfig base = DecoderConfig.builder().vocabSize(301).hiddenSize(128).numLayers(3).numHeads(4).numKvHeads(2)
        .ffnSize(344).activation(FfnActivation.SQUARED_RELU).ropeTheta(500000f).build();
    return Stream.of(
        Arguments.of("bitnet-like", base, Precision.TERNARY, true),
        Arguments.of("bitnet-like-dense", base, Precision.DENSE_F32, true),
        Arguments.of("llama-like-untied", base.toBuilder().activation(FfnActivation.SWIGLU).tiedEmbeddings(false).numKvHeads(4)
            .build(), Precision.TERNARY, false),
        Arguments.of("odd-sizes", DecoderConfig.builder().vocabSize(97).hiddenSize(24).numLayers(2).numHeads(6).numKvHeads(3)
            .ffnSize(35).build(), Precision.TERNARY, true));
  }

  static WeightSource weights(long seed, boolean subNorms) {
    WeightSource r = DecoderModel.randomWeights(seed);
    return new WeightSource() {
      @Override
      public float[] floats(String name, long... shape) {
        return r.floats(name, shape);
      }

      @Override
      public boolean contains(String name) {
        return !name.endsWith(".bias") && (subNorms || !name.endsWith("_sub_norm.weight"));
      }
    };
  }

  static void assertClose(float[] cpu, float[] gpu, String what, boolean int8) {
    assertEquals(cpu.length, gpu.length);
    float max = 1f;
    for (float v : cpu) {
      max = Math.max(max, Math.abs(v));
    }
    int over = 0;
    double worst = 0;
    for (int i = 0; i < cpu.length; i++) {
      double d = Math.abs(cpu[i] - gpu[i]);
      assertTrue(Float.isFinite(gpu[i]), what + ": logit " + i + " is " + gpu[i]);
      worst = Math.max(worst, d);
      if (d > 1e-3 * max) {
        over++;
      }
    }
    System.out.printf(java.util.Locale.ROOT, "gpu vs cpu %s: max|logit| %.3f, worst difference %.3g, %d of %d beyond 1e-3 of it%n",
        what, max, worst, over, cpu.length);
    assertTrue(int8 ? over <= cpu.length / 10 && worst <= 1e-2 * max : over == 0, what + ": " + over + " of " + cpu.length + " logits beyond "
        + 1e-3 * max + " (worst " + worst + ")");
  }

  static int argmax(float[] l, int off, int n) {
    int best = off;
    for (int i = off; i < off + n; i++) {
      if (l[i] > l[best]) {
        best = i;
      }
    }
    return best - off;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void prefillStepsAndBatchesAgreeWithTheCpu(String name, DecoderConfig config, Precision precision, boolean subNorms) {
    DecoderModel cpu = DecoderModel.fromWeights(config, precision, weights(5, subNorms));
    try (Backend cuda = BackendRegistry.load().open("cuda"); DecoderModel gpu = cpu.on(cuda)) {
      assertEquals("cuda", gpu.backendName());
      KVCache a = cpu.newCache(3, 80, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
      KVCache b = gpu.newCache(3, 80, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
      int v = config.vocabSize();
      int[] prompt = new int[70];
      for (int i = 0; i < prompt.length; i++) {
        prompt[i] = (i * 37 + 11) % v;
      }
      boolean q8 = precision == Precision.TERNARY;
      assertClose(cpu.forward(a, 0, prompt, true), gpu.forward(b, 0, prompt, true), name + " prefill of 70", q8);
      assertClose(cpu.forward(a, 1, new int[] {5, 6, 7}, false), gpu.forward(b, 1, new int[] {5, 6, 7}, false),
          name + " prefill of 3", q8);
      int t = 1;
      for (int i = 0; i < 8; i++) {
        float[] lc = cpu.forward(a, 0, new int[] {t}, false);
        float[] lg = gpu.forward(b, 0, new int[] {t}, false);
        assertClose(lc, lg, name + " decode step " + i, q8);
        t = argmax(lc, 0, v);
        assertClose(cpu.step(a, new int[] {2, 1}, new int[] {t, i}), gpu.step(b, new int[] {2, 1}, new int[] {t, i}),
            name + " batch step " + i, q8);
      }
    }
  }

  /** A CPU program, and the same program on the GPU by changing the backend name only. */
  static Generation.Result program(String backendName) {
    DecoderConfig config = DecoderConfig.builder().vocabSize(512).hiddenSize(256).numLayers(4).numHeads(8).numKvHeads(2)
        .ffnSize(688).activation(FfnActivation.SQUARED_RELU).ropeTheta(500000f).build();
    try (Backend backend = BackendRegistry.load().open(backendName);
        DecoderModel model = DecoderModel.random(config, Precision.TERNARY, 42).on(backend)) {
      return Generation.run(model, new int[] {1, 17, 33, 250, 7}, Generation.Options.greedy(24), null);
    }
  }

  @Test
  void switchingACpuProgramToTheGpuChangesOnlyTheBackendName() {
    Generation.Result cpu = program("tritter-accel");
    Generation.Result gpu = program("cuda");
    assertEquals(24, gpu.tokens().length);
    assertArrayEquals(cpu.tokens(), gpu.tokens());
  }
}
