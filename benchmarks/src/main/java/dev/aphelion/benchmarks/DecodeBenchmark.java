package dev.aphelion.benchmarks;

import dev.aphelion.tritter.inference.KVCache;
import dev.aphelion.tritter.model.DecoderConfig;
import dev.aphelion.tritter.model.DecoderModel;
import dev.aphelion.tritter.model.FfnActivation;
import dev.aphelion.tritter.model.Precision;
import dev.aphelion.tritter.vector.Vectorization;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Tokens per second of one decoding step of a ~100M-parameter BitNet-style decoder with random
 * weights at context 512: the step appends token 512 to a cache pre-filled with 511 tokens and
 * computes the logits. {@code ternary}: 2-bit projections with int8 activations and an int8
 * embedding/head; {@code denseFloat32}: the same model (same seed, same code path) with f32 weights
 * on the Vector API. After each step the cache is truncated back to 511 tokens.
 *
 * <p>Config: hidden 1024, 8 layers, 16 heads, 4 KV heads, SwiGLU FFN 2816, vocabulary 8192, tied
 * embeddings: 90.2M projection weights + 8.4M embedding = 98.6M parameters. Setup prints the weight
 * memory of both models.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx3g", "-XX:+UseParallelGC"})
public class DecodeBenchmark {

  /** Tokens already in the cache when the measured step runs. */
  @Param({"511"})
  public int context;

  private DecoderModel ternary;
  private DecoderModel dense;
  private KVCache ternaryCache;
  private KVCache denseCache;
  private int token;

  /** The benchmark configuration (public so that tests and docs can quote it). */
  public static DecoderConfig config() {
    return DecoderConfig.builder().vocabSize(8192).hiddenSize(1024).numLayers(8).numHeads(16).numKvHeads(4)
        .ffnSize(2816).activation(FfnActivation.SWIGLU).tiedEmbeddings(true).build();
  }

  /** Builds both models, pre-fills both caches to {@code context} tokens and prints memory. */
  @Setup(Level.Trial)
  public void setup() {
    DecoderConfig c = config();
    ternary = DecoderModel.random(c, Precision.TERNARY, 2026);
    dense = DecoderModel.random(c, Precision.DENSE_F32, 2026);
    int[] prompt = new int[context];
    SplittableRandom r = new SplittableRandom(1);
    for (int i = 0; i < prompt.length; i++) {
      prompt[i] = r.nextInt(c.vocabSize());
    }
    token = r.nextInt(c.vocabSize());
    ternaryCache = prefill(ternary, prompt);
    denseCache = prefill(dense, prompt);
    System.out.printf(Locale.ROOT,
        "%n[DecodeBenchmark] %s, %,d parameters (%,d in projections); kernels %s%n"
            + "[DecodeBenchmark] weight memory: ternary %,d bytes (projections %,d), dense f32 %,d bytes (projections %,d); "
            + "ratio %.2fx overall, %.2fx projections%n",
        c, c.parameterCount(), c.projectionParameters(), Vectorization.get(),
        ternary.weightMemoryBytes(), ternary.projectionMemoryBytes(), dense.weightMemoryBytes(), dense.projectionMemoryBytes(),
        (double) dense.weightMemoryBytes() / ternary.weightMemoryBytes(),
        (double) dense.projectionMemoryBytes() / ternary.projectionMemoryBytes());
  }

  private KVCache prefill(DecoderModel m, int[] prompt) {
    KVCache cache = m.newCache(1, context + 1, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
    int chunk = 64;
    for (int i = 0; i < prompt.length; i += chunk) {
      m.forward(cache, 0, java.util.Arrays.copyOfRange(prompt, i, Math.min(prompt.length, i + chunk)), false);
    }
    return cache;
  }

  /** One decoding step of the ternary model. */
  @Benchmark
  public float[] ternary() {
    float[] logits = ternary.forward(ternaryCache, 0, new int[] {token}, false);
    ternaryCache.truncate(0, context);
    return logits;
  }

  /** One decoding step of the dense f32 twin. */
  @Benchmark
  public float[] denseFloat32() {
    float[] logits = dense.forward(denseCache, 0, new int[] {token}, false);
    denseCache.truncate(0, context);
    return logits;
  }
}
