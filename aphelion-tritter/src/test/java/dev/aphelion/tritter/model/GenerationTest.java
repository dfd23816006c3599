package dev.aphelion.tritter.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ShapeException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GenerationTest {
  private static final DecoderConfig CONFIG = DecoderConfig.builder().vocabSize(64).hiddenSize(32).numLayers(2)
      .numHeads(4).numKvHeads(2).ffnSize(48).activation(FfnActivation.SQUARED_RELU).build();
  private static final DecoderModel MODEL = DecoderModel.random(CONFIG, Precision.TERNARY, 3);

  @Test
  void greedyMatchesTheModelsOwnLoopAndStreamsEveryToken() {
    int[] prompt = {1, 2, 3, 4};
    List<Integer> seen = new ArrayList<>();
    Generation.Result r = Generation.run(MODEL, prompt, Generation.Options.greedy(10), seen::add);
    assertArrayEquals(MODEL.generate(prompt, 10, Sampler.greedy()), r.tokens());
    assertEquals(10, seen.size());
    assertEquals(Generation.StopReason.MAX_TOKENS, r.stopReason());
    assertEquals(4, r.promptTokens());
    assertTrue(r.prefillNanos() > 0 && r.decodeNanos() > 0);
  }

  @Test
  void listenerAndContextStopGeneration() {
    int[] prompt = {5, 6};
    Generation.Result r = Generation.run(MODEL, prompt, Generation.Options.greedy(10), t -> false);
    assertEquals(1, r.tokens().length);
    assertEquals(Generation.StopReason.LISTENER, r.stopReason());
    Generation.Result c = Generation.run(MODEL, prompt, Generation.Options.greedy(10).withMaxPositions(5), null);
    assertEquals(3, c.tokens().length);
    assertEquals(Generation.StopReason.CONTEXT_FULL, c.stopReason());
    assertThrows(ShapeException.class, () -> Generation.run(MODEL, new int[0], Generation.Options.greedy(1), null));
    assertThrows(ShapeException.class, () -> Generation.run(MODEL, prompt, Generation.Options.greedy(1).withMaxPositions(2), null));
  }

  @Test
  void repetitionPenaltyAvoidsRepeats() {
    int[] prompt = {7, 8, 9};
    int[] plain = Generation.run(MODEL, prompt, Generation.Options.greedy(24), null).tokens();
    int[] penalized = Generation.run(MODEL, prompt, Generation.Options.greedy(24).withRepetitionPenalty(1e6f), null).tokens();
    assertNotEquals(java.util.Arrays.toString(plain), java.util.Arrays.toString(penalized));
    Set<Integer> distinct = new java.util.HashSet<>();
    for (int t : penalized) {
      distinct.add(t);
    }
    // a huge penalty makes every repeated token lose to any fresh token with a positive logit
    assertTrue(distinct.size() > penalized.length / 2, java.util.Arrays.toString(penalized));
    assertThrows(ConfigException.class, () -> Generation.Options.greedy(1).withRepetitionPenalty(0f));
  }

  @Test
  void seededSamplingIsReproducible() {
    int[] prompt = {1, 2};
    Generation.Options o = Generation.Options.greedy(12).withSampler(Sampler.of(0.9f, 0, 0.9f, 42));
    int[] a = Generation.run(MODEL, prompt, o, null).tokens();
    int[] b = Generation.run(MODEL, prompt, o.withSampler(Sampler.of(0.9f, 0, 0.9f, 42)), null).tokens();
    assertArrayEquals(a, b);
  }

  @Test
  void topPKeepsTheNucleusOnly() {
    float[] logits = {0f, 5f, 4.9f, -3f, 1f};
    // p ≈ {0.004, 0.52, 0.47, 0.00003, 0.01}: top-p 0.5 keeps token 1 only
    Sampler s = Sampler.of(1f, 0, 0.5f, 1);
    for (int i = 0; i < 50; i++) {
      assertEquals(1, s.sample(logits, 0, logits.length));
    }
    Sampler two = Sampler.of(1f, 0, 0.95f, 2);
    Set<Integer> seen = new java.util.HashSet<>();
    for (int i = 0; i < 200; i++) {
      seen.add(two.sample(logits, 0, logits.length));
    }
    assertEquals(Set.of(1, 2), seen);
    Sampler all = Sampler.of(1f, 0, 1f, 4);
    int[] counts = new int[logits.length];
    for (int i = 0; i < 4000; i++) {
      counts[all.sample(logits, 0, logits.length)]++;
    }
    // p(1) ≈ 0.52, p(2) ≈ 0.47: both frequent, token 3 (p ≈ 3e-5) essentially never
    assertTrue(counts[1] > 1800 && counts[2] > 1600 && counts[3] < 5, java.util.Arrays.toString(counts));
    Sampler k1 = Sampler.of(2f, 1, 1f, 3);
    assertEquals(1, k1.sample(logits, 0, logits.length));
    assertThrows(ConfigException.class, () -> Sampler.of(1f, 0, 0f, 1));
    assertThrows(ConfigException.class, () -> Sampler.of(1f, -1, 1f, 1));
    assertThrows(ConfigException.class, () -> Sampler.of(-1f, 0, 1f, 1));
  }
}
