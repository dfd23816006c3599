package dev.aphelion.tritter.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.nn.LinearLayer;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DecoderModelTest {

  // Decoding token by token with the cache must give the same logits as recomputing the sequence.
  // Both paths do the same arithmetic per token except for the order of float sums inside
  // GEMV vs. GEMM and attention; the observed difference is ~1e-6 relative, we allow 1e-4 of the
  // largest logit.
  static final double CACHE_TOLERANCE = 1e-4;

  static Stream<Arguments> configs() {
    DecoderConfig base = DecoderConfig.builder().vocabSize(37).hiddenSize(32).numLayers(2).numHeads(4).ffnSize(48).build();
    return Stream.of(
        Arguments.of("mha-swiglu-tied", base),
        Arguments.of("gqa-relu2-untied", base.toBuilder().numKvHeads(2).activation(FfnActivation.SQUARED_RELU).tiedEmbeddings(false).build()),
        Arguments.of("mqa-swiglu-untied", base.toBuilder().numKvHeads(1).tiedEmbeddings(false).ropeTheta(500000f).build()),
        Arguments.of("gqa-relu2-tied-odd", DecoderConfig.builder().vocabSize(61).hiddenSize(24).numLayers(3).numHeads(6).numKvHeads(3)
            .ffnSize(35).activation(FfnActivation.SQUARED_RELU).build()));
  }

  static Stream<Arguments> configsAndPrecisions() {
    return configs().flatMap(a -> Stream.of(Precision.values()).map(p -> Arguments.of(a.get()[0], a.get()[1], p)));
  }

  static int[] tokens(int n, int vocab, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int[] t = new int[n];
    for (int i = 0; i < n; i++) {
      t[i] = r.nextInt(vocab);
    }
    return t;
  }

  static double maxAbs(float[] a) {
    double m = 0;
    for (float v : a) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }

  static void assertClose(float[] expected, float[] actual, double relTol, String what) {
    assertEquals(expected.length, actual.length, what + ": length");
    double scale = Math.max(1e-6, maxAbs(expected));
    for (int i = 0; i < expected.length; i++) {
      double d = Math.abs(expected[i] - actual[i]);
      if (d > relTol * scale) {
        throw new AssertionError(what + ": element " + i + " differs: " + expected[i] + " vs " + actual[i] + " (|d|=" + d
            + " > " + relTol + "·" + scale + ")");
      }
    }
  }

  @ParameterizedTest(name = "{0} {2}")
  @MethodSource("configsAndPrecisions")
  void decodingWithCacheMatchesRecomputation(String name, DecoderConfig config, Precision precision) {
    DecoderModel model = DecoderModel.random(config, precision, 7);
    int n = 11;
    int[] toks = tokens(n, config.vocabSize(), 3);

    // Whole sequence at once (one multi-token call) with a fresh cache: logits of every position.
    KVCache full = model.newCache(1, n, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
    float[] all = model.forward(full, 0, toks, true);
    assertEquals(n, full.position(0));

    // Token by token through the cache.
    KVCache inc = model.newCache(1, n, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
    int v = config.vocabSize();
    for (int i = 0; i < n; i++) {
      float[] step = model.forward(inc, 0, new int[] {toks[i]}, false);
      float[] expected = java.util.Arrays.copyOfRange(all, i * v, (i + 1) * v);
      assertClose(expected, step, CACHE_TOLERANCE, name + " position " + i);
    }

    // Independent reference: recompute every prefix from scratch without any cache.
    for (int i : new int[] {0, n / 2, n - 1}) {
      float[] ref = ReferenceDecoder.logits(model, java.util.Arrays.copyOf(toks, i + 1));
      assertClose(ref, java.util.Arrays.copyOfRange(all, i * v, (i + 1) * v), CACHE_TOLERANCE, name + " reference " + i);
    }
  }

  @Test
  void batchedStepMatchesSingleSequences() {
    DecoderConfig config = DecoderConfig.builder().vocabSize(29).hiddenSize(16).numLayers(2).numHeads(4).numKvHeads(2).ffnSize(20).build();
    for (Precision p : Precision.values()) {
      DecoderModel model = DecoderModel.random(config, p, 11);
      int[][] prompts = {{1, 2, 3}, {4}, {5, 6, 7, 8, 9}};
      KVCache batch = model.newCache(3, 16, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
      for (int s = 0; s < 3; s++) {
        model.forward(batch, s, prompts[s], false);
      }
      float[] logits = model.step(batch, new int[] {0, 1, 2}, new int[] {10, 11, 12});
      for (int s = 0; s < 3; s++) {
        KVCache single = model.newCache(1, 16, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
        model.forward(single, 0, prompts[s], false);
        float[] one = model.forward(single, 0, new int[] {10 + s}, false);
        assertClose(one, java.util.Arrays.copyOfRange(logits, s * 29, (s + 1) * 29), CACHE_TOLERANCE, p + " seq " + s);
      }
      assertThrows(ShapeException.class, () -> model.step(batch, new int[] {0, 0}, new int[] {1, 2}));
    }
  }

  @Test
  void slidingWindowAttendsToTheLastTokensOnly() {
    DecoderConfig config = DecoderConfig.builder().vocabSize(23).hiddenSize(16).numLayers(2).numHeads(2).ffnSize(24).build();
    DecoderModel model = DecoderModel.random(config, Precision.DENSE_F32, 5);
    int window = 4;
    int[] toks = tokens(10, 23, 9);
    KVCache cache = model.newCache(1, window, KVCache.EvictionPolicy.SLIDING_WINDOW, KVCache.Storage.FLOAT32);
    for (int i = 0; i < toks.length; i++) {
      float[] step = model.forward(cache, 0, new int[] {toks[i]}, false);
      float[] ref = ReferenceDecoder.logits(model, java.util.Arrays.copyOf(toks, i + 1), window);
      assertClose(ref, step, CACHE_TOLERANCE, "window position " + i);
    }
    assertEquals(10, cache.position(0));
    assertEquals(window, cache.visible(0));
    // A multi-token call that wraps the window inside the call behaves the same.
    KVCache c2 = model.newCache(1, window, KVCache.EvictionPolicy.SLIDING_WINDOW, KVCache.Storage.FLOAT32);
    float[] all = model.forward(c2, 0, toks, true);
    float[] ref = ReferenceDecoder.logits(model, toks, window);
    assertClose(ref, java.util.Arrays.copyOfRange(all, 9 * 23, 10 * 23), CACHE_TOLERANCE, "window multi-token");
  }

  @Test
  void fullCacheUnderErrorPolicyThrowsWithoutChangingState() {
    DecoderConfig config = DecoderConfig.builder().vocabSize(13).hiddenSize(8).numLayers(1).numHeads(2).ffnSize(8).build();
    DecoderModel model = DecoderModel.random(config, Precision.TERNARY, 1);
    KVCache cache = model.newCache(1, 3, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
    model.forward(cache, 0, new int[] {1, 2}, false);
    ShapeException e = assertThrows(ShapeException.class, () -> model.forward(cache, 0, new int[] {3, 4}, false));
    assertTrue(e.getMessage().contains("KV cache full"), e.getMessage());
    assertEquals(2, cache.position(0));
    model.forward(cache, 0, new int[] {3}, false);
    assertThrows(ShapeException.class, () -> model.forward(cache, 0, new int[] {12}, false));
    assertThrows(ShapeException.class, () -> model.forward(model.newCache(1, 3, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32), 0, new int[] {13}, false));
  }

  @Test
  void int8CacheStaysCloseToFloatCache() {
    DecoderConfig config = DecoderConfig.builder().vocabSize(31).hiddenSize(32).numLayers(2).numHeads(4).numKvHeads(2).ffnSize(40).build();
    DecoderModel model = DecoderModel.random(config, Precision.DENSE_F32, 2);
    int[] toks = tokens(12, 31, 4);
    float[] f = model.forward(model.newCache(1, 12, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32), 0, toks, true);
    float[] q = model.forward(model.newCache(1, 12, KVCache.EvictionPolicy.ERROR, KVCache.Storage.INT8), 0, toks, true);
    // Each cached element is within max|x|/254 of the original; through two layers of softmax
    // attention that gives logit errors of a few percent of the largest logit at most.
    assertClose(f, q, 0.05, "int8 cache");
  }

  @Test
  void generateIsDeterministicUnderASeed() {
    DecoderConfig config = DecoderConfig.builder().vocabSize(41).hiddenSize(16).numLayers(2).numHeads(2).ffnSize(24).build();
    DecoderModel model = DecoderModel.random(config, Precision.TERNARY, 8);
    int[] prompt = {1, 5, 7};
    int[] greedy = model.generate(prompt, 6, Sampler.greedy());
    assertArrayEquals(greedy, model.generate(prompt, 6, Sampler.greedy()));
    assertArrayEquals(greedy, model.generate(prompt, 6, Sampler.topK(5, 0f, 1)));
    // Greedy picks the arg max of the logits at every step.
    KVCache cache = model.newCache(1, 16, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
    float[] logits = model.forward(cache, 0, prompt, false);
    for (int t : greedy) {
      assertEquals(Sampler.argMax(logits, 0, 41), t);
      logits = model.forward(cache, 0, new int[] {t}, false);
    }
    int[] a = model.generate(prompt, 8, Sampler.topK(10, 1.5f, 42));
    int[] b = model.generate(prompt, 8, Sampler.topK(10, 1.5f, 42));
    assertArrayEquals(a, b);
    boolean differs = false;
    for (long seed = 0; seed < 10 && !differs; seed++) {
      differs = !java.util.Arrays.equals(a, model.generate(prompt, 8, Sampler.topK(10, 1.5f, seed)));
    }
    assertTrue(differs, "different seeds should give different samples");
    // A stop token ends generation and is included.
    KVCache c = model.newCache(1, 16, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
    int[] stopped = model.generate(c, 0, prompt, 6, Sampler.greedy(), greedy[1]);
    assertEquals(greedy[1] == greedy[0] ? 1 : 2, stopped.length);
  }

  @Test
  void ternaryModelUsesFarLessWeightMemory() {
    DecoderConfig config = DecoderConfig.builder().vocabSize(64).hiddenSize(128).numLayers(2).numHeads(4).ffnSize(256).build();
    DecoderModel t = DecoderModel.random(config, Precision.TERNARY, 1);
    DecoderModel d = DecoderModel.random(config, Precision.DENSE_F32, 1);
    assertEquals(config.projectionParameters() * 4, d.projectionMemoryBytes());
    double ratio = (double) d.projectionMemoryBytes() / t.projectionMemoryBytes();
    assertTrue(ratio > 12, "projection memory ratio " + ratio);
    assertTrue((double) d.weightMemoryBytes() / t.weightMemoryBytes() > 8);
  }

  @Test
  void saveAndLoadRoundTrip(@TempDir Path dir) {
    for (DecoderConfig config : configs().map(a -> (DecoderConfig) a.get()[1]).toList()) {
      for (Precision p : Precision.values()) {
        DecoderModel model = DecoderModel.random(config, p, 13);
        Path file = dir.resolve(p + "-" + config.hashCode() + ".safetensors");
        model.save(file);
        DecoderModel back = DecoderModel.load(file, p);
        assertEquals(config, back.config());
        int[] toks = tokens(5, config.vocabSize(), 1);
        float[] a = model.forward(model.newCache(1, 8, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32), 0, toks, true);
        float[] b = back.forward(back.newCache(1, 8, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32), 0, toks, true);
        assertClose(a, b, 1e-5, "round trip " + p);
        for (int l = 0; l < config.numLayers(); l++) {
          List<LinearLayer> x = model.projections(l);
          List<LinearLayer> y = back.projections(l);
          for (int i = 0; i < x.size(); i++) {
            assertEquals(x.get(i).getClass(), y.get(i).getClass());
            assertEquals(x.get(i).memoryBytes(), y.get(i).memoryBytes());
          }
        }
      }
    }
  }

  @Test
  void ternaryLoadOfDenseCheckpointQuantizesOnce(@TempDir Path dir) {
    DecoderConfig config = DecoderConfig.builder().vocabSize(19).hiddenSize(16).numLayers(1).numHeads(2).ffnSize(16).build();
    Path file = dir.resolve("dense.safetensors");
    DecoderModel.random(config, Precision.DENSE_F32, 3).save(file);
    DecoderModel fromFile = DecoderModel.load(file, Precision.TERNARY);
    DecoderModel direct = DecoderModel.random(config, Precision.TERNARY, 3);
    int[] toks = {1, 2, 3};
    float[] a = fromFile.forward(fromFile.newCache(1, 4, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32), 0, toks, true);
    float[] b = direct.forward(direct.newCache(1, 4, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32), 0, toks, true);
    assertClose(b, a, 1e-5, "dense checkpoint run ternary");
  }

  @Test
  void configValidation() {
    assertThrows(ConfigException.class, () -> DecoderConfig.builder().vocabSize(10).hiddenSize(10).numLayers(1).numHeads(3).ffnSize(4).build());
    assertThrows(ConfigException.class, () -> DecoderConfig.builder().vocabSize(10).hiddenSize(12).numLayers(1).numHeads(4).numKvHeads(3).ffnSize(4).build());
    assertThrows(ConfigException.class, () -> DecoderConfig.builder().vocabSize(10).hiddenSize(12).numLayers(1).numHeads(4).ffnSize(4).build());
    assertThrows(ConfigException.class, () -> DecoderConfig.builder().vocabSize(0).hiddenSize(8).numLayers(1).numHeads(2).ffnSize(4).build());
    DecoderConfig c = DecoderConfig.builder().vocabSize(100).hiddenSize(8).numLayers(2).numHeads(2).numKvHeads(1).ffnSize(16).tiedEmbeddings(false).build();
    assertEquals(2 * (8 * 8 * 2 + 8 * 4 * 2 + 3 * 8 * 16), c.projectionParameters());
    assertEquals(c.projectionParameters() + 2 * 2 * 8 + 8 + 2 * 800, c.parameterCount());
  }
}
