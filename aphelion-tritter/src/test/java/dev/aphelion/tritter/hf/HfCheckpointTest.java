package dev.aphelion.tritter.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.SerializationException;
import dev.aphelion.tritter.io.DType;
import dev.aphelion.tritter.io.SafeTensorsWriter;
import dev.aphelion.tritter.model.DecoderConfig;
import dev.aphelion.tritter.model.Sampler;
import dev.aphelion.tritter.nn.TernaryLayer;
import dev.aphelion.tritter.ternary.PackedTernary;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hugging Face BitNet checkpoints written here in every form transformers reads: config
 * validation, sharding with an index, transformers' packing layout, and that the packed and
 * master-weight forms of one model load to the same ternary weights.
 */
class HfCheckpointTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String[] PROJ = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
      "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};

  @TempDir Path tmp;

  /** The worked example in the docstring of transformers' {@code unpack_weights}. */
  @Test
  void unpacksTransformersDocstringExample() {
    byte[] packed = {(byte) 0b10100001, (byte) 0b00011000, (byte) 0b10010000, (byte) 0b00001010};
    PackedTernary p = BitNetWeights.unpackTransformers(MemorySegment.ofArray(packed), 8, 2, 1f, "example");
    float[] w = TernaryLayer.dequantize(p);
    float[] expected = {0, -1, -1, 1, -1, 1, -1, 1, 1, 0, 0, -1, 1, -1, 1, -1};
    assertArrayEquals(expected, w);
  }

  @Test
  void rejectsCodeThree() {
    byte[] packed = {(byte) 0b00001100, 0};
    SerializationException e = assertThrows(SerializationException.class,
        () -> BitNetWeights.unpackTransformers(MemorySegment.ofArray(packed), 4, 2, 1f, "t"));
    assertTrue(e.getMessage().contains("code 3"), e.getMessage());
  }

  /** Packs trits exactly as transformers' {@code pack_weights}: row {@code i·out/4 + j} into bits 2i of row j. */
  static byte[] packLikeTransformers(byte[] trits, int out, int in) {
    int quarter = out / 4;
    byte[] packed = new byte[quarter * in];
    for (int r = 0; r < out; r++) {
      int i = r / quarter;
      int j = r % quarter;
      for (int c = 0; c < in; c++) {
        packed[j * in + c] |= (byte) ((trits[r * in + c] + 1) << (2 * i));
      }
    }
    return packed;
  }

  static DecoderConfig tiny() {
    return DecoderConfig.builder().vocabSize(48).hiddenSize(32).numLayers(2).numHeads(4).numKvHeads(2).ffnSize(40)
        .activation(dev.aphelion.tritter.model.FfnActivation.SQUARED_RELU)
        .rmsNormEps(1e-5f).ropeTheta(500000f).tiedEmbeddings(true).build();
  }

  static ObjectNode config(DecoderConfig c, String linearClass, String mode) {
    ObjectNode n = JSON.createObjectNode();
    n.putArray("architectures").add("BitNetForCausalLM");
    n.put("model_type", "bitnet");
    n.put("vocab_size", c.vocabSize());
    n.put("hidden_size", c.hiddenSize());
    n.put("intermediate_size", c.ffnSize());
    n.put("num_hidden_layers", c.numLayers());
    n.put("num_attention_heads", c.numHeads());
    n.put("num_key_value_heads", c.numKvHeads());
    n.put("hidden_act", "relu2");
    n.put("max_position_embeddings", 128);
    n.put("rms_norm_eps", 1e-5);
    n.put("rope_theta", 500000.0);
    n.put("tie_word_embeddings", true);
    n.put("bos_token_id", 0);
    n.put("eos_token_id", 1);
    n.put("torch_dtype", "bfloat16");
    n.put("initializer_range", 0.02);
    ObjectNode q = n.putObject("quantization_config");
    q.put("quant_method", "bitnet");
    q.put("linear_class", linearClass);
    q.put("quantization_mode", mode);
    return n;
  }

  /** Random bf16-representable master weights under their HF names. */
  static Map<String, float[]> masters(DecoderConfig c, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    Map<String, float[]> w = new LinkedHashMap<>();
    int h = c.hiddenSize();
    w.put("model.embed_tokens.weight", gauss(rnd, c.vocabSize() * h, 0.5));
    for (int l = 0; l < c.numLayers(); l++) {
      String p = "model.layers." + l + ".";
      for (String proj : PROJ) {
        w.put(p + proj + ".weight", gauss(rnd, out(c, proj) * in(c, proj), 1 / Math.sqrt(in(c, proj))));
      }
      w.put(p + "input_layernorm.weight", gain(rnd, h));
      w.put(p + "post_attention_layernorm.weight", gain(rnd, h));
      w.put(p + "self_attn.attn_sub_norm.weight", gain(rnd, h));
      w.put(p + "mlp.ffn_sub_norm.weight", gain(rnd, c.ffnSize()));
    }
    w.put("model.norm.weight", gain(rnd, h));
    return w;
  }

  static int out(DecoderConfig c, String proj) {
    return switch (proj) {
      case "self_attn.k_proj", "self_attn.v_proj" -> c.kvSize();
      case "mlp.gate_proj", "mlp.up_proj" -> c.ffnSize();
      default -> c.hiddenSize();
    };
  }

  static int in(DecoderConfig c, String proj) {
    return proj.equals("mlp.down_proj") ? c.ffnSize() : c.hiddenSize();
  }

  private static float[] gauss(SplittableRandom rnd, int n, double std) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = bf16((float) (rnd.nextGaussian() * std));
    }
    return v;
  }

  private static float[] gain(SplittableRandom rnd, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = bf16((float) (1 + 0.2 * rnd.nextGaussian()));
    }
    return v;
  }

  static float bf16(float f) {
    return Float.intBitsToFloat(Float.floatToIntBits(f) & 0xFFFF0000);
  }

  static long[] shape(DecoderConfig c, String name) {
    if (name.equals("model.embed_tokens.weight")) {
      return new long[] {c.vocabSize(), c.hiddenSize()};
    }
    for (String proj : PROJ) {
      if (name.endsWith(proj + ".weight")) {
        return new long[] {out(c, proj), in(c, proj)};
      }
    }
    return new long[] {name.endsWith("ffn_sub_norm.weight") ? c.ffnSize() : c.hiddenSize()};
  }

  /** Writes the master form in two shards with an index. */
  Path writeMaster(DecoderConfig c, Map<String, float[]> w, Consumer<ObjectNode> editIndex) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("master"));
    Files.writeString(dir.resolve("config.json"), config(c, "autobitlinear", "online").toString());
    SafeTensorsWriter[] shards = {new SafeTensorsWriter(), new SafeTensorsWriter()};
    ObjectNode index = JSON.createObjectNode();
    index.putObject("metadata").put("total_size", 0);
    ObjectNode map = index.putObject("weight_map");
    int i = 0;
    for (Map.Entry<String, float[]> e : w.entrySet()) {
      int s = i++ < w.size() / 2 ? 0 : 1;
      shards[s].addFloats(e.getKey(), DType.BF16, shape(c, e.getKey()), e.getValue());
      map.put(e.getKey(), "model-0000" + (s + 1) + "-of-00002.safetensors");
    }
    shards[0].metadata("format", "pt").write(dir.resolve("model-00001-of-00002.safetensors"));
    shards[1].metadata("format", "pt").write(dir.resolve("model-00002-of-00002.safetensors"));
    editIndex.accept(index);
    Files.writeString(dir.resolve(HfCheckpoint.INDEX_FILE), index.toString());
    return dir;
  }

  /** Writes the packed (BitLinear) form in one file, quantizing like transformers' WeightQuant. */
  Path writePacked(DecoderConfig c, Map<String, float[]> w) throws IOException {
    return writeTernary(c, w, "bitlinear", true);
  }

  /**
   * Writes a ternary form: BitLinear (packed, output divided by weight_scale) or AutoBitLinear
   * offline (packed or float trits, output multiplied by weight_scale).
   */
  Path writeTernary(DecoderConfig c, Map<String, float[]> w, String linearClass, boolean packed) throws IOException {
    boolean divides = linearClass.equals("bitlinear");
    Path dir = Files.createDirectories(tmp.resolve(linearClass + (packed ? "-packed" : "-trits")));
    Files.writeString(dir.resolve("config.json"), config(c, linearClass, "offline").toString());
    SafeTensorsWriter out = new SafeTensorsWriter();
    for (Map.Entry<String, float[]> e : w.entrySet()) {
      long[] shape = shape(c, e.getKey());
      if (e.getKey().endsWith("_proj.weight")) {
        float[] v = e.getValue();
        double sum = 0;
        for (float x : v) {
          sum += Math.abs(x);
        }
        float s = 1f / Math.max((float) (sum / v.length), 1e-5f);
        byte[] trits = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
          trits[i] = (byte) Math.max(-1, Math.min(1, Math.rint(v[i] * s)));
        }
        int o = (int) shape[0];
        int in = (int) shape[1];
        if (packed) {
          out.add(e.getKey(), DType.U8, new long[] {o / 4, in}, packLikeTransformers(trits, o, in));
        } else {
          float[] t = new float[trits.length];
          for (int i = 0; i < t.length; i++) {
            t[i] = trits[i];
          }
          out.addFloats(e.getKey(), DType.BF16, shape, t);
        }
        String scale = e.getKey().substring(0, e.getKey().length() - "weight".length()) + "weight_scale";
        out.addFloats(scale, DType.F32, new long[] {1}, new float[] {divides ? s : 1f / s});
      } else {
        out.addFloats(e.getKey(), DType.BF16, shape, e.getValue());
      }
    }
    out.write(dir.resolve(HfCheckpoint.SINGLE_FILE));
    return dir;
  }

  @Test
  void packedAndMasterFormsLoadToTheSameModel() throws IOException {
    DecoderConfig c = tiny();
    Map<String, float[]> w = masters(c, 7);
    HfModel master = HfModel.load(writeMaster(c, w, i -> {}));
    HfModel packed = HfModel.load(writePacked(c, w));
    assertEquals(HfConfig.WeightForm.MASTER_ONLINE, master.config().weightForm());
    assertEquals(HfConfig.WeightForm.PACKED_BITLINEAR, packed.config().weightForm());
    assertEquals(c, master.model().config());
    for (int l = 0; l < c.numLayers(); l++) {
      for (int p = 0; p < PROJ.length; p++) {
        PackedTernary a = ((TernaryLayer) master.model().projections(l).get(p)).packed();
        PackedTernary b = ((TernaryLayer) packed.model().projections(l).get(p)).packed();
        assertArrayEquals(TernaryLayer.dequantize(a), TernaryLayer.dequantize(b), "layer " + l + " " + PROJ[p]);
      }
    }
    int[] prompt = {0, 5, 17, 3, 40, 22};
    var ca = master.model().newCache(1, 16, dev.aphelion.tritter.model.KVCache.EvictionPolicy.ERROR,
        dev.aphelion.tritter.model.KVCache.Storage.FLOAT32);
    var cb = packed.model().newCache(1, 16, dev.aphelion.tritter.model.KVCache.EvictionPolicy.ERROR,
        dev.aphelion.tritter.model.KVCache.Storage.FLOAT32);
    assertArrayEquals(master.model().forward(ca, 0, prompt, true), packed.model().forward(cb, 0, prompt, true));
    assertArrayEquals(master.model().generate(prompt, 6, Sampler.greedy()), packed.model().generate(prompt, 6, Sampler.greedy()));
    for (boolean bytes : new boolean[] {true, false}) {
      HfModel auto = HfModel.load(writeTernary(c, w, "autobitlinear", bytes));
      assertEquals(HfConfig.WeightForm.TERNARY_AUTOBITLINEAR, auto.config().weightForm());
      var cc = auto.model().newCache(1, 16, dev.aphelion.tritter.model.KVCache.EvictionPolicy.ERROR,
          dev.aphelion.tritter.model.KVCache.Storage.FLOAT32);
      ca.reset(0);
      assertArrayEquals(master.model().forward(ca, 0, prompt, true), auto.model().forward(cc, 0, prompt, true),
          "autobitlinear offline, " + (bytes ? "packed" : "float trits"));
    }
  }

  @Test
  void llamaCheckpointsLoadAsTheDenseTwin() throws IOException {
    DecoderConfig c = DecoderConfig.builder().vocabSize(48).hiddenSize(32).numLayers(2).numHeads(4).numKvHeads(2).ffnSize(40)
        .activation(dev.aphelion.tritter.model.FfnActivation.SWIGLU).rmsNormEps(1e-6f).ropeTheta(10000f).tiedEmbeddings(false).build();
    Map<String, float[]> w = masters(c, 12);
    w.keySet().removeIf(k -> k.endsWith("_sub_norm.weight"));
    w.put("lm_head.weight", w.get("model.embed_tokens.weight").clone());
    Path dir = Files.createDirectories(tmp.resolve("llama"));
    ObjectNode n = JSON.createObjectNode();
    n.putArray("architectures").add("LlamaForCausalLM");
    n.put("model_type", "llama");
    n.put("vocab_size", 48).put("hidden_size", 32).put("intermediate_size", 40).put("num_hidden_layers", 2)
        .put("num_attention_heads", 4).put("num_key_value_heads", 2).put("hidden_act", "silu").put("rms_norm_eps", 1e-6)
        .put("rope_theta", 10000.0).put("tie_word_embeddings", false).put("torch_dtype", "float32");
    Files.writeString(dir.resolve("config.json"), n.toString());
    SafeTensorsWriter out = new SafeTensorsWriter();
    for (Map.Entry<String, float[]> e : w.entrySet()) {
      out.addF32(e.getKey(), e.getKey().equals("lm_head.weight") ? new long[] {48, 32} : shape(c, e.getKey()), e.getValue());
    }
    out.write(dir.resolve(HfCheckpoint.SINGLE_FILE));
    HfModel m = HfModel.load(dir);
    assertEquals("LlamaForCausalLM", m.config().architecture());
    assertEquals(HfConfig.WeightForm.DENSE, m.config().weightForm());
    assertEquals(c, m.model().config());
    var expected = dev.aphelion.tritter.model.DecoderModel.fromWeights(c, dev.aphelion.tritter.model.Precision.DENSE_F32,
        dev.aphelion.tritter.io.WeightSource.ofMap(w));
    int[] prompt = {3, 1, 4, 1, 5};
    var ca = m.model().newCache(1, 8, dev.aphelion.tritter.model.KVCache.EvictionPolicy.ERROR, dev.aphelion.tritter.model.KVCache.Storage.FLOAT32);
    var cb = expected.newCache(1, 8, dev.aphelion.tritter.model.KVCache.EvictionPolicy.ERROR, dev.aphelion.tritter.model.KVCache.Storage.FLOAT32);
    // the same f32 computation (kernel dispatch may split sums differently: a few ulps)
    assertArrayEquals(expected.forward(cb, 0, prompt, true), m.model().forward(ca, 0, prompt, true), 1e-5f);
    ConfigException e = assertThrows(ConfigException.class, () -> HfModel.load(dir, dev.aphelion.tritter.model.Precision.TERNARY, false));
    assertTrue(e.getMessage().contains("DENSE_F32"), e.getMessage());
  }

  @Test
  void offlineFloatWeightsMustBeTrits() throws IOException {
    DecoderConfig c = tiny();
    Map<String, float[]> w = masters(c, 11);
    Path dir = writeTernary(c, w, "autobitlinear", false);
    Files.writeString(dir.resolve("config.json"), config(c, "autobitlinear", "offline").toString());
    SafeTensorsWriter out = new SafeTensorsWriter();
    for (Map.Entry<String, float[]> e : w.entrySet()) {
      out.addFloats(e.getKey(), DType.BF16, shape(c, e.getKey()), e.getValue());
      if (e.getKey().endsWith("_proj.weight")) {
        out.addFloats(e.getKey().replace(".weight", ".weight_scale"), DType.F32, new long[] {1}, new float[] {1f});
      }
    }
    out.write(dir.resolve(HfCheckpoint.SINGLE_FILE));
    SerializationException e = assertThrows(SerializationException.class, () -> HfModel.load(dir));
    assertTrue(e.getMessage().contains("must be ternary"), e.getMessage());
  }

  @Test
  void indexErrorsNameTheTensorAndShard() throws IOException {
    DecoderConfig c = tiny();
    Map<String, float[]> w = masters(c, 9);
    Path dir = writeMaster(c, w, i -> ((ObjectNode) i.get("weight_map")).put("model.norm.weight", "model-00001-of-00002.safetensors"));
    SerializationException e = assertThrows(SerializationException.class, () -> HfModel.load(dir));
    assertTrue(e.getMessage().contains("model.norm.weight") && e.getMessage().contains("model-00001-of-00002"), e.getMessage());
  }

  @Test
  void indexMayNotPointOutsideTheDirectory() throws IOException {
    DecoderConfig c = tiny();
    Path dir = writeMaster(c, masters(c, 10), i -> ((ObjectNode) i.get("weight_map")).put("model.norm.weight", "../x.safetensors"));
    SerializationException e = assertThrows(SerializationException.class, () -> HfModel.load(dir));
    assertTrue(e.getMessage().contains("plain .safetensors file names"), e.getMessage());
  }

  @Test
  void missingWeightsAndDirectoriesAreClearErrors() throws IOException {
    AphelionException e = assertThrows(AphelionException.class, () -> HfModel.load(tmp.resolve("nope")));
    assertTrue(e.getMessage().contains("not a directory"), e.getMessage());
    Path dir = Files.createDirectories(tmp.resolve("empty"));
    Files.writeString(dir.resolve("config.json"), config(tiny(), "bitlinear", "offline").toString());
    e = assertThrows(SerializationException.class, () -> HfModel.load(dir));
    assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
  }

  @Test
  void configErrorsNameTheField() {
    assertConfigError(n -> n.put("hidden_act", "silu"), "hidden_act");
    assertConfigError(n -> n.put("model_type", "mistral"), "model_type");
    assertConfigError(n -> n.put("model_type", "llama"), "architectures");
    assertConfigError(n -> n.remove("quantization_config"), "quantization_config is missing");
    assertConfigError(n -> ((ObjectNode) n.get("quantization_config")).put("linear_class", "foo"), "linear_class");
    assertConfigError(n -> ((ObjectNode) n.get("quantization_config")).put("quantization_mode", "lazy"), "quantization_mode");
    assertConfigError(n -> ((ObjectNode) n.get("quantization_config")).put("use_rms_norm", true), "use_rms_norm");
    assertConfigError(n -> ((ObjectNode) n.get("quantization_config")).put("quant_method", "gptq"), "quant_method");
    assertConfigError(n -> n.put("hidden_size", "64"), "hidden_size");
    assertConfigError(n -> n.put("num_key_value_heads", 3), "num_key_value_heads");
    assertConfigError(n -> n.put("head_dim", 4), "head_dim");
    assertConfigError(n -> n.putObject("rope_scaling").put("rope_type", "llama3"), "rope_scaling");
    assertConfigError(n -> n.put("attention_bias", true), "attention_bias");
    assertConfigError(n -> n.put("eos_token_id", 4800), "eos_token_id");
    assertConfigError(n -> n.put("rms_norm_eps", -1), "rms_norm_eps");
    assertConfigError(n -> n.put("torch_dtype", "int8"), "torch_dtype");
    assertConfigError(n -> n.putArray("architectures").add("LlamaForCausalLM"), "architectures");
  }

  @Test
  void configDefaultsAndListsParse() {
    ObjectNode n = config(tiny(), "autobitlinear", "offline");
    n.putArray("eos_token_id").add(1).add(2);
    n.remove("rope_theta");
    n.putObject("rope_parameters").put("rope_type", "default").put("rope_theta", 10000.0);
    HfConfig c = HfConfig.parse(n, "test");
    assertEquals(java.util.List.of(1, 2), c.eosTokenIds());
    assertEquals(10000f, c.decoder().ropeTheta());
    assertEquals(HfConfig.WeightForm.TERNARY_AUTOBITLINEAR, c.weightForm());
  }

  private static void assertConfigError(Consumer<ObjectNode> edit, String field) {
    ObjectNode n = config(tiny(), "bitlinear", "offline");
    edit.accept(n);
    ConfigException e = assertThrows(ConfigException.class, () -> HfConfig.parse(n, "cfg"));
    assertTrue(e.getMessage().contains(field), "message should name " + field + ": " + e.getMessage());
  }
}
