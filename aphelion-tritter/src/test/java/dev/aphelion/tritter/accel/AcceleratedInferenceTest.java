package dev.aphelion.tritter.accel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.backend.NullBackend;
import dev.aphelion.core.config.ModelConfig;
import dev.aphelion.core.error.BackendException;
import dev.aphelion.core.error.GraphException;
import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.pipeline.BuildContext;
import dev.aphelion.tritter.io.SafeTensorsWriter;
import dev.aphelion.tritter.io.TernaryTensors;
import dev.aphelion.tritter.model.DecoderConfig;
import dev.aphelion.tritter.model.DecoderModel;
import dev.aphelion.tritter.model.KVCache;
import dev.aphelion.tritter.model.Precision;
import dev.aphelion.tritter.nn.TernaryLayer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AcceleratedInferenceTest {

  static float[] random(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextGaussian() * 0.3);
    }
    return v;
  }

  static ModelConfig lin(String id, int in, int out, boolean bias) {
    return ModelConfig.builder(id, "1.0.0").param("in_features", in).param("out_features", out).param("bias", bias).build();
  }

  static BuildGraph mlp() {
    return BuildGraph.builder()
        .addNode("in", "input")
        .addNode("fc1", "linear", lin("fc1", 6, 10, true))
        .addNode("act", "relu")
        .addNode("fc2", "linear", lin("fc2", 10, 3, false))
        .addNode("sm", "softmax")
        .addEdge("in", "fc1").addEdge("fc1", "act").addEdge("act", "fc2").addEdge("fc2", "sm")
        .build();
  }

  static Map<String, float[]> weights() {
    Map<String, float[]> w = new HashMap<>();
    w.put("fc1.weight", random(60, 1));
    w.put("fc1.bias", random(10, 2));
    w.put("fc2.weight", random(30, 3));
    return w;
  }

  static float[] reference(Map<String, float[]> w, float[] x, boolean ternary) {
    float[] w1 = w.get("fc1.weight");
    float[] w2 = w.get("fc2.weight");
    if (ternary) {
      w1 = TernaryLayer.dequantize(TernaryLayer.quantize(w1, 10, 6, null, TernaryLayer.Activations.FLOAT32).packed());
      w2 = TernaryLayer.dequantize(TernaryLayer.quantize(w2, 3, 10, null, TernaryLayer.Activations.FLOAT32).packed());
    }
    float[] h = new float[10];
    for (int o = 0; o < 10; o++) {
      double s = w.get("fc1.bias")[o];
      for (int i = 0; i < 6; i++) {
        s += w1[o * 6 + i] * x[i];
      }
      h[o] = (float) Math.max(s, 0);
    }
    double[] z = new double[3];
    double max = Double.NEGATIVE_INFINITY;
    for (int o = 0; o < 3; o++) {
      for (int i = 0; i < 10; i++) {
        z[o] += w2[o * 10 + i] * h[i];
      }
      max = Math.max(max, z[o]);
    }
    double sum = 0;
    for (int o = 0; o < 3; o++) {
      z[o] = Math.exp(z[o] - max);
      sum += z[o];
    }
    float[] out = new float[3];
    for (int o = 0; o < 3; o++) {
      out[o] = (float) (z[o] / sum);
    }
    return out;
  }

  @Test
  void denseGraphRunsLikeTheReference() {
    AcceleratedInference m = AcceleratedInference.fromGraph(mlp(), weights());
    assertEquals(List.of("fc1:linear", "act:relu", "fc2:linear", "sm:softmax"), m.opTypes());
    assertEquals(6, m.inputSize());
    assertEquals(3, m.outputSize());
    float[] x = random(6, 9);
    assertArrayEquals(reference(weights(), x, false), m.forward(x), 1e-5f);
  }

  @Test
  void accelerationStageMakesTheGraphTernaryAndBatchesAreSplit() {
    BuildGraph g = AccelerationStage.inference(4).withTernaryLayers(true, false).execute(BuildContext.of(new NullBackend()), mlp());
    AcceleratedInference m = AcceleratedInference.fromGraph(g, weights());
    assertEquals(List.of("fc1:ternary_linear", "act:relu", "fc2:ternary_linear", "sm:softmax"), m.opTypes());
    assertEquals(4, m.batchSize());
    int rows = 11;
    float[] x = random(rows * 6, 5);
    try (InferenceEngine engine = InferenceEngine.builder().maxBatchSize(4).threads(2).build()) {
      float[] y = m.withEngine(engine).forward(x, rows);
      assertEquals(rows * 3, y.length);
      for (int r = 0; r < rows; r++) {
        float[] ref = reference(weights(), java.util.Arrays.copyOfRange(x, r * 6, r * 6 + 6), true);
        for (int o = 0; o < 3; o++) {
          assertEquals(ref[o], y[r * 3 + o], 1e-5, "row " + r);
        }
      }
    }
    // Tiny layers are padded to 32-row blocks, so only shapes are checked here (memory: TernaryLayerTest).
    assertTrue(m.weightMemoryBytes() > 0);
  }

  @Test
  void weightsFromSafetensorsIncludingPackedTernary(@TempDir Path dir) {
    Map<String, float[]> w = weights();
    SafeTensorsWriter out = new SafeTensorsWriter();
    TernaryTensors.add(out, "fc1", TernaryLayer.quantize(w.get("fc1.weight"), 10, 6, null, TernaryLayer.Activations.INT8).packed());
    out.addF32("fc1.bias", new long[] {10}, w.get("fc1.bias"));
    out.addF32("fc2.weight", new long[] {3, 10}, w.get("fc2.weight"));
    Path f = dir.resolve("mlp.safetensors");
    out.write(f);
    BuildGraph g = AccelerationStage.inference(1).withTernaryLayers(true, false).execute(null, mlp());
    float[] x = random(6, 3);
    assertArrayEquals(AcceleratedInference.fromGraph(g, w).forward(x), AcceleratedInference.fromGraph(g, f).forward(x), 1e-6f);
  }

  @Test
  void badGraphsAndWeightsGetClearErrors() {
    BuildGraph branch = BuildGraph.builder().addNode("a", "linear", lin("a", 2, 2, false)).addNode("b", "relu").addNode("c", "relu")
        .addEdge("a", "b").addEdge("a", "c").build();
    assertThrows(GraphException.class, () -> AcceleratedInference.fromGraph(branch, Map.of("a.weight", new float[4])));
    BuildGraph unknown = BuildGraph.builder().addNode("a", "conv2d").build();
    GraphException e = assertThrows(GraphException.class, () -> AcceleratedInference.fromGraph(unknown, Map.of()));
    assertTrue(e.getMessage().contains("conv2d"));
    BuildGraph noParam = BuildGraph.builder().addNode("a", "linear").build();
    assertThrows(GraphException.class, () -> AcceleratedInference.fromGraph(noParam, Map.of()));
    BuildGraph mismatch = BuildGraph.builder().addNode("a", "linear", lin("a", 2, 3, false)).addNode("b", "linear", lin("b", 4, 1, false))
        .addEdge("a", "b").build();
    assertThrows(ShapeException.class, () -> AcceleratedInference.fromGraph(mismatch, Map.of("a.weight", new float[6], "b.weight", new float[4])));
    assertThrows(SerializationException.class, () -> AcceleratedInference.fromGraph(mlp(), Map.of("fc1.weight", new float[60])));
    assertThrows(ShapeException.class, () -> AcceleratedInference.fromGraph(mlp(), Map.of("fc1.weight", new float[59], "fc1.bias", new float[10], "fc2.weight", new float[30])));
    AcceleratedInference m = AcceleratedInference.fromGraph(mlp(), weights());
    assertThrows(ShapeException.class, () -> m.forward(new float[5]));
    assertThrows(GraphException.class, () -> m.withKvCache(16));
    assertThrows(GraphException.class, () -> m.forwardTokens(new int[] {1}));
    try (NullBackend nb = new NullBackend()) {
      assertThrows(BackendException.class, () -> InferenceEngine.builder().backend(nb).build());
    }
  }

  static BuildGraph decoderGraph(DecoderConfig c) {
    ModelConfig mc = ModelConfig.builder("tiny-bitnet", "1.0.0").param("vocab_size", c.vocabSize()).param("hidden_size", c.hiddenSize())
        .param("num_layers", c.numLayers()).param("num_heads", c.numHeads()).param("num_kv_heads", c.numKvHeads())
        .param("ffn_size", c.ffnSize()).param("activation", c.activation().name().toLowerCase(java.util.Locale.ROOT))
        .param("tied_embeddings", c.tiedEmbeddings()).build();
    return BuildGraph.builder().addNode("decoder", "transformer_decoder", mc).build();
  }

  @Test
  void decoderGraphWithKvCacheDecodesLikeTheModel(@TempDir Path dir) {
    DecoderConfig c = DecoderConfig.builder().vocabSize(21).hiddenSize(16).numLayers(2).numHeads(4).numKvHeads(2).ffnSize(24).build();
    DecoderModel reference = DecoderModel.random(c, Precision.TERNARY, 4);
    // Weights live under the node id: decoder.model.layers.0...
    Path f = dir.resolve("decoder.safetensors");
    DecoderModel.random(c, Precision.DENSE_F32, 4).save(dir.resolve("plain.safetensors"));
    try (var plain = dev.aphelion.tritter.io.SafeTensorsFile.open(dir.resolve("plain.safetensors"))) {
      SafeTensorsWriter w = new SafeTensorsWriter();
      for (String name : plain.names()) {
        w.addF32("decoder." + name, plain.info(name).shape(), plain.floats(name));
      }
      w.write(f);
    }
    BuildGraph g = AccelerationStage.inference(1).withKvCache(8, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32)
        .execute(null, decoderGraph(c));
    AcceleratedInference m = AcceleratedInference.fromGraph(g, f);
    assertEquals(Precision.TERNARY, m.decoder().orElseThrow().precision());
    assertEquals(8, m.kvCache().orElseThrow().capacity());
    KVCache refCache = reference.newCache(1, 8, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
    float[] a = m.forwardTokens(new int[] {1, 2, 3});
    float[] b = reference.forward(refCache, 0, new int[] {1, 2, 3}, false);
    assertArrayEquals(b, a, 1e-5f);
    assertArrayEquals(reference.forward(refCache, 0, new int[] {4}, false), m.forwardTokens(new int[] {4}), 1e-5f);
    assertEquals(4, m.kvCache().orElseThrow().position(0));
    m.resetCache();
    assertEquals(0, m.kvCache().orElseThrow().position(0));
    AcceleratedInference bigger = m.withKvCache(32);
    assertEquals(32, bigger.kvCache().orElseThrow().capacity());
    assertThrows(GraphException.class, () -> bigger.forward(new float[1]));
  }
}
