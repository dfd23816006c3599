package dev.aphelion.benchmarks;

import dev.aphelion.tritter.kernel.Vectorization;
import dev.aphelion.tritter.model.DecoderConfig;
import dev.aphelion.tritter.model.DecoderModel;
import dev.aphelion.tritter.model.FfnActivation;
import dev.aphelion.tritter.model.KVCache;
import dev.aphelion.tritter.model.Precision;
import java.util.Arrays;
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
 * embeddings: 90.2M projection weights + 8.4M embedding = 98.6M parameters. Setup prints the
 * model's weight memory next to the f32 size of the same config.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx3g", "-XX:+UseParallelGC"})
public class DecodeBenchmark {

  /** The benchmark configuration (public so that tests and docs can quote it). */
  public static DecoderConfig config() {
    return DecoderConfig.builder().vocabSize(8192).hiddenSize(1024).numLayers(8).numHeads(16).numKvHeads(4)
        .ffnSize(2816).activation(FfnActivation.SWIGLU).tiedEmbeddings(true).build();
  }

  /** Tokens already in the cache when the measured step runs (context 512 with the new token). */
  static final int CONTEXT = 511;

  /**
   * One model with its cache pre-filled to {@link #CONTEXT} tokens. Each benchmark method has its
   * own state class, so a fork builds only the model it measures.
   */
  abstract static class ModelState {
    DecoderModel model;
    KVCache cache;
    int token;

    void init(Precision precision) {
      DecoderConfig c = config();
      model = DecoderModel.random(c, precision, 2026);
      SplittableRandom r = new SplittableRandom(1);
      int[] prompt = new int[CONTEXT];
      for (int i = 0; i < prompt.length; i++) {
        prompt[i] = r.nextInt(c.vocabSize());
      }
      token = r.nextInt(c.vocabSize());
      cache = model.newCache(1, CONTEXT + 1, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
      for (int i = 0; i < prompt.length; i += 64) {
        model.forward(cache, 0, Arrays.copyOfRange(prompt, i, Math.min(prompt.length, i + 64)), false);
      }
      long f32 = 4L * c.parameterCount();
      System.out.printf(Locale.ROOT,
          "%n[DecodeBenchmark] %s model: %,d parameters (%,d in projections), kernels %s, cache at %d tokens%n"
              + "[DecodeBenchmark] weight memory %,d bytes (projections %,d); f32 weights of this config: %,d bytes -> %.2fx less%n",
          precision, c.parameterCount(), c.projectionParameters(), Vectorization.get(), cache.position(0),
          model.weightMemoryBytes(), model.projectionMemoryBytes(), f32, (double) f32 / model.weightMemoryBytes());
    }

    float[] step() {
      float[] logits = model.forward(cache, 0, new int[] {token}, false);
      cache.truncate(0, CONTEXT);
      return logits;
    }
  }

  /** The ternary model (2-bit projections, int8 activations, int8 embedding/head). */
  @State(Scope.Benchmark)
  public static class TernaryModel extends ModelState {
    /** Builds the model and pre-fills its cache. */
    @Setup(Level.Trial)
    public void setup() {
      init(Precision.TERNARY);
    }
  }

  /** The dense f32 twin (same seed, same code path, f32 weights on the Vector API). */
  @State(Scope.Benchmark)
  public static class DenseModel extends ModelState {
    /** Builds the model and pre-fills its cache. */
    @Setup(Level.Trial)
    public void setup() {
      init(Precision.DENSE_F32);
    }
  }

  /** One decoding step of the ternary model at context 512. */
  @Benchmark
  public float[] ternary(TernaryModel m) {
    return m.step();
  }

  /** One decoding step of the dense f32 twin at context 512. */
  @Benchmark
  public float[] denseFloat32(DenseModel m) {
    return m.step();
  }
}
