package dev.aphelion.tritter.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aphelion.tritter.model.DecoderModel;
import dev.aphelion.tritter.model.Generation;
import dev.aphelion.tritter.model.KVCache;
import dev.aphelion.tritter.model.Precision;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Our logits against the ones transformers computes for the same checkpoints (fixtures made by
 * {@code src/test/resources/hf/make_bitnet_fixtures.py}: a tiny random BitNetForCausalLM with 2
 * layers, hidden 64, 4 heads, 2 KV heads, FFN 192, vocabulary 320, in the bf16 master-weight form,
 * sharded, and in transformers' packed uint8 form).
 *
 * <p>The bound: transformers and this library compute the same integers (ternary weights times
 * int8 activations, both rounding {@code x·(127/max)} half to even), so the logits agree to f32
 * summation-order rounding, {@link #F32_BOUND} at every position (measured: at most 5.7e-6 on
 * logits up to 19). Before the quantizer rounded half to even, one activation of the packed
 * fixture sat on a .5 step and picked the neighbouring code (0.060 at that position); such a flip
 * now fails the test.
 */
class HfBitNetFixtureTest {
  /** Largest |ours - transformers| of any logit. */
  static final double F32_BOUND = 1e-5;

  private static final ObjectMapper JSON = new ObjectMapper();

  static Path fixtures() throws Exception {
    return Path.of(HfBitNetFixtureTest.class.getResource("/hf/expected.json").toURI()).getParent();
  }

  static JsonNode expected() throws Exception {
    return JSON.readTree(fixtures().resolve("expected.json").toFile());
  }

  static int[] ints(JsonNode a) {
    int[] v = new int[a.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = a.get(i).asInt();
    }
    return v;
  }

  static float[] floats(JsonNode a) {
    float[] v = new float[a.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) a.get(i).asDouble();
    }
    return v;
  }

  static float[] logits(DecoderModel m, int[] ids) {
    KVCache cache = m.newCache(1, ids.length, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
    return m.forward(cache, 0, ids, true);
  }

  static double maxAbsDiff(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    double d = 0;
    for (int i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs((double) a[i] - b[i]));
    }
    return d;
  }

  @ParameterizedTest
  @ValueSource(strings = {"master", "packed"})
  void logitsMatchTransformers(String form) throws Exception {
    JsonNode exp = expected();
    HfModel m = HfModel.load(fixtures().resolve("bitnet-" + form));
    assertEquals(form.equals("master") ? HfConfig.WeightForm.MASTER_ONLINE : HfConfig.WeightForm.PACKED_BITLINEAR,
        m.config().weightForm());
    JsonNode f = exp.get("forms").get(form);
    checkPositions(form + " ids", logits(m.model(), ints(exp.get("ids"))), floats(f.get("logits_ids")), m.config().decoder().vocabSize());
    checkPositions(form + " prompt", logits(m.model(), ints(exp.get("prompt_ids"))), floats(f.get("logits_prompt")),
        m.config().decoder().vocabSize());
  }

  private static void checkPositions(String what, float[] ours, float[] ref, int vocab) {
    assertEquals(ref.length, ours.length);
    int positions = ref.length / vocab;
    int over = 0;
    double worst = 0;
    double range = 0;
    for (int p = 0; p < positions; p++) {
      double d = 0;
      for (int i = p * vocab; i < (p + 1) * vocab; i++) {
        d = Math.max(d, Math.abs((double) ours[i] - ref[i]));
        range = Math.max(range, Math.abs(ref[i]));
      }
      worst = Math.max(worst, d);
      if (d > F32_BOUND) {
        over++;
      }
    }
    System.out.printf("HF BitNet fixture (%s): max |ours - transformers| %.3g over %d positions, %d above %.0e; max |logit| %.3g%n",
        what, worst, positions, over, F32_BOUND, range);
    assertEquals(0, over, what + ": " + over + " positions differ from transformers by more than " + F32_BOUND + " (worst " + worst + ")");
  }

  @ParameterizedTest
  @ValueSource(strings = {"master", "packed"})
  void greedyContinuationMatchesTransformersExactly(String form) throws Exception {
    JsonNode exp = expected();
    HfModel m = HfModel.load(fixtures().resolve("bitnet-" + form));
    int[] prompt = ints(exp.get("prompt_ids"));
    int[] want = ints(exp.get("forms").get(form).get("greedy"));
    List<Integer> streamed = new ArrayList<>();
    Generation.Result r = Generation.run(m.model(), prompt, Generation.Options.greedy(want.length), t -> streamed.add(t));
    assertArrayEquals(want, r.tokens());
    assertEquals(want.length, streamed.size());
    assertEquals(Generation.StopReason.MAX_TOKENS, r.stopReason());
  }

  @ParameterizedTest
  @ValueSource(strings = {"master", "packed"})
  void int8HeadKeepsTheGreedyContinuation(String form) throws Exception {
    // the int8 embedding/head (a quarter of the bytes a decode step reads for the head) picks transformers' tokens
    JsonNode exp = expected();
    HfModel m = HfModel.load(fixtures().resolve("bitnet-" + form), Precision.TERNARY, true);
    int[] want = ints(exp.get("forms").get(form).get("greedy"));
    assertArrayEquals(want, Generation.run(m.model(), ints(exp.get("prompt_ids")), Generation.Options.greedy(want.length), null).tokens());
  }

  @Test
  void packedAndMasterFormsGiveTheSameTokens() throws Exception {
    JsonNode exp = expected();
    int[] prompt = ints(exp.get("prompt_ids"));
    HfModel a = HfModel.load(fixtures().resolve("bitnet-master"));
    HfModel b = HfModel.load(fixtures().resolve("bitnet-packed"));
    Generation.Options o = Generation.Options.greedy(16);
    assertArrayEquals(Generation.run(a.model(), prompt, o, null).tokens(), Generation.run(b.model(), prompt, o, null).tokens());
  }

  @Test
  void stopTokenEndsGeneration() throws Exception {
    JsonNode exp = expected();
    HfModel m = HfModel.load(fixtures().resolve("bitnet-packed"));
    int[] prompt = ints(exp.get("prompt_ids"));
    int[] want = ints(exp.get("forms").get("packed").get("greedy"));
    Generation.Result r = Generation.run(m.model(), prompt, Generation.Options.greedy(16).withStopTokens(Set.of(want[2])), null);
    assertEquals(Generation.StopReason.STOP_TOKEN, r.stopReason());
    int first = 0;
    while (want[first] != want[2]) {
      first++;
    }
    assertArrayEquals(java.util.Arrays.copyOf(want, first + 1), r.tokens());
  }

  @Test
  void int8EmbeddingsStayCloseAndDenseTwinLoads() throws Exception {
    JsonNode exp = expected();
    int[] ids = ints(exp.get("ids"));
    float[] ref = floats(exp.get("forms").get("packed").get("logits_ids"));
    HfModel q8 = HfModel.load(fixtures().resolve("bitnet-packed"), Precision.TERNARY, true);
    double d = maxAbsDiff(logits(q8.model(), ids), ref);
    System.out.printf("HF BitNet fixture (packed, int8 embedding/head): max |ours - transformers| = %.3g%n", d);
    assertTrue(d < 1.0, "int8 embedding/head moved the logits by " + d);
    HfModel dense = HfModel.load(fixtures().resolve("bitnet-packed"), Precision.DENSE_F32, false);
    double dd = maxAbsDiff(logits(dense.model(), ids), ref);
    System.out.printf("HF BitNet fixture (packed, dense twin with f32 activations): max |ours - transformers| = %.3g%n", dd);
    assertTrue(dd < 1.0, "the dense twin is far from the ternary model: " + dd);
  }
}
