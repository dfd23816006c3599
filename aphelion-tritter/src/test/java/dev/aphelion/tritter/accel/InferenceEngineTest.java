package dev.aphelion.tritter.accel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.model.DecoderConfig;
import dev.aphelion.tritter.model.DecoderModel;
import dev.aphelion.tritter.model.KVCache;
import dev.aphelion.tritter.model.Precision;
import dev.aphelion.tritter.model.Sampler;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

class InferenceEngineTest {

  @Test
  void splitsBatchesAboveTheMaximumAndKeepsOrder() {
    List<Integer> sizes = Collections.synchronizedList(new ArrayList<>());
    Set<String> threads = ConcurrentHashMap.newKeySet();
    try (InferenceEngine engine = InferenceEngine.builder().maxBatchSize(3).threads(2).build()) {
      assertEquals(TritterAccelBackend.NAME, engine.backend().name());
      float[] x = new float[10 * 2];
      for (int i = 0; i < x.length; i++) {
        x[i] = i;
      }
      float[] y = engine.run((in, rows) -> {
        sizes.add(rows);
        threads.add(Thread.currentThread().getName());
        float[] out = new float[rows];
        for (int r = 0; r < rows; r++) {
          out[r] = in[2 * r] + in[2 * r + 1];
        }
        return out;
      }, x, 10, 2);
      for (int r = 0; r < 10; r++) {
        assertEquals(4 * r + 1, y[r]);
      }
      Collections.sort(sizes);
      assertEquals(List.of(1, 3, 3, 3), sizes);
      assertThrows(ShapeException.class, () -> engine.run((in, rows) -> new float[rows], new float[5], 3, 2));
      assertThrows(IllegalStateException.class, () -> engine.run((in, rows) -> {
        throw new IllegalStateException("boom");
      }, x, 10, 2));
    }
    assertThrows(ConfigException.class, () -> InferenceEngine.builder().maxBatchSize(0).build());
    assertThrows(ConfigException.class, () -> InferenceEngine.builder().threads(0).build());
  }

  @Test
  void batchedGenerationEqualsOneSequenceAtATime() {
    DecoderConfig c = DecoderConfig.builder().vocabSize(33).hiddenSize(16).numLayers(2).numHeads(4).numKvHeads(2).ffnSize(24).build();
    DecoderModel model = DecoderModel.random(c, Precision.TERNARY, 12);
    List<int[]> prompts = List.of(new int[] {1, 2, 3}, new int[] {4}, new int[] {5, 6}, new int[] {7, 8, 9, 10}, new int[] {11}, new int[] {12, 13});
    InferenceEngine.GenerationConfig greedy = InferenceEngine.GenerationConfig.greedy(5);
    InferenceEngine.GenerationConfig sampled = new InferenceEngine.GenerationConfig(5, 8, 1.2f, 77, -1, KVCache.Storage.FLOAT32);
    try (InferenceEngine engine = InferenceEngine.builder().maxBatchSize(4).threads(2).build();
        InferenceEngine single = InferenceEngine.builder().maxBatchSize(1).threads(1).build()) {
      List<int[]> g = engine.generate(model, prompts, greedy);
      List<int[]> s = engine.generate(model, prompts, sampled);
      List<int[]> s1 = single.generate(model, prompts, sampled);
      for (int i = 0; i < prompts.size(); i++) {
        assertArrayEquals(model.generate(prompts.get(i), 5, Sampler.greedy()), g.get(i), "greedy prompt " + i);
        assertArrayEquals(s1.get(i), s.get(i), "sampling does not depend on batching, prompt " + i);
        assertArrayEquals(model.generate(prompts.get(i), 5, Sampler.topK(8, 1.2f, 77 + i)), s.get(i), "sampled prompt " + i);
      }
      // A stop token ends its sequence only.
      int stop = g.get(0)[1];
      List<int[]> stopped = engine.generate(model, prompts, new InferenceEngine.GenerationConfig(5, 1, 0f, 0, stop, KVCache.Storage.FLOAT32));
      assertEquals(g.get(0)[0] == stop ? 1 : 2, stopped.get(0).length);
      assertThrows(ShapeException.class, () -> engine.generate(model, List.of(new int[0]), greedy));
    }
  }
}
