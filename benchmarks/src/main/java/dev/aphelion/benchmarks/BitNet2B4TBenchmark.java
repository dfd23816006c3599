package dev.aphelion.benchmarks;

import dev.aphelion.tritter.io.WeightSource;
import dev.aphelion.tritter.kernel.Vectorization;
import dev.aphelion.tritter.model.DecoderConfig;
import dev.aphelion.tritter.model.DecoderModel;
import dev.aphelion.tritter.model.FfnActivation;
import dev.aphelion.tritter.model.KVCache;
import dev.aphelion.tritter.model.Precision;
import dev.aphelion.tritter.ternary.PackedTernary;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
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
 * BitNet b1.58 2B4T's exact shape (hidden 2560, 30 layers, 20 heads, 5 KV heads, squared-ReLU FFN
 * 6912 with BitNet's sub-norms, vocabulary 128256, tied embeddings) with random ternary weights,
 * as llama.cpp's {@code llama-bench} measures it: {@code pp128} feeds a 128-token prompt in one
 * call (one GEMM per projection), {@code tg128} generates 128 tokens one step at a time after it.
 * Each shot is one whole run; tokens/s = 128 / the shot's time. The embedding/head is int8 (one
 * scale per row); projections are 2-bit with int8 activations. Threads are set with {@code
 * -XX:ActiveProcessorCount} (the kernels' shared pool takes one thread per available processor).
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
public class BitNet2B4TBenchmark {

  /** Tokens of the prompt ({@code pp128}) and of the generation ({@code tg128}). */
  public static final int TOKENS = 128;

  /** The BitNet b1.58 2B4T configuration. */
  public static DecoderConfig config() {
    return DecoderConfig.builder().vocabSize(128256).hiddenSize(2560).numLayers(30).numHeads(20).numKvHeads(5)
        .ffnSize(6912).activation(FfnActivation.SQUARED_RELU).rmsNormEps(1e-5f).ropeTheta(500000f).tiedEmbeddings(true).build();
  }

  /**
   * Random weights straight in the packed layout: trits uniform in {-1, 0, 1}, one scale per tensor.
   *
   * @param seed the seed
   * @return the source
   */
  public static WeightSource randomTernary(long seed) {
    return new WeightSource() {
      @Override
      public float[] floats(String name, long... shape) {
        int n = Math.toIntExact(Arrays.stream(shape).reduce(1, Math::multiplyExact));
        float[] v = new float[n];
        if (name.endsWith("norm.weight")) {
          Arrays.fill(v, 1f);
          return v;
        }
        SplittableRandom r = new SplittableRandom(seed ^ name.hashCode());
        for (int i = 0; i < n; i++) {
          v[i] = (float) (r.nextGaussian() * 0.02);
        }
        return v;
      }

      @Override
      public Optional<PackedTernary> packed(String prefix, int rows, int cols) {
        SplittableRandom r = new SplittableRandom(seed ^ prefix.hashCode());
        byte[] trits = new byte[Math.multiplyExact(rows, cols)];
        for (int i = 0; i < trits.length; i++) {
          trits[i] = (byte) (r.nextInt(3) - 1);
        }
        float[] scales = new float[rows];
        Arrays.fill(scales, (float) (1.5 / Math.sqrt(cols)));
        return Optional.of(PackedTernary.fromTrits(trits, rows, cols, scales, cols));
      }

      @Override
      public boolean contains(String name) {
        return !name.endsWith(".bias");
      }
    };
  }

  /** The model and a prompt; built once per fork. */
  @State(Scope.Benchmark)
  public static class Model {
    DecoderModel model;
    int[] prompt;

    /** Builds the model. */
    @Setup(Level.Trial)
    public void setup() {
      long t0 = System.nanoTime();
      DecoderConfig c = config();
      model = DecoderModel.fromWeights(c, Precision.TERNARY, randomTernary(2026), true);
      SplittableRandom r = new SplittableRandom(7);
      prompt = new int[TOKENS];
      for (int i = 0; i < prompt.length; i++) {
        prompt[i] = r.nextInt(c.vocabSize());
      }
      System.out.printf(Locale.ROOT, "%n[BitNet2B4T] %,d parameters, weight memory %,d bytes (projections %,d), kernels %s, "
          + "%d processors, built in %.1f s%n", c.parameterCount(), model.weightMemoryBytes(), model.projectionMemoryBytes(),
          Vectorization.get(), Runtime.getRuntime().availableProcessors(), (System.nanoTime() - t0) / 1e9);
    }

    KVCache cache() {
      return model.newCache(1, 2 * TOKENS + 1, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
    }

    float[] prefill() {
      return model.forward(cache(), 0, prompt, false);
    }

    int decode() {
      KVCache cache = cache();
      float[] logits = model.forward(cache, 0, Arrays.copyOf(prompt, 1), false);
      int t = 0;
      for (int i = 0; i < TOKENS; i++) {
        t = dev.aphelion.tritter.model.Sampler.argMax(logits, 0, logits.length);
        logits = model.forward(cache, 0, new int[] {t}, false);
      }
      return t;
    }
  }

  /** pp128 on one thread. */
  @Benchmark
  @Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx4g", "-XX:+UseParallelGC", "-XX:ActiveProcessorCount=1"})
  public float[] pp128Threads1(Model m) {
    return m.prefill();
  }

  /** pp128 on two threads. */
  @Benchmark
  @Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx4g", "-XX:+UseParallelGC", "-XX:ActiveProcessorCount=2"})
  public float[] pp128Threads2(Model m) {
    return m.prefill();
  }

  /** tg128 on one thread (after a one-token prompt). */
  @Benchmark
  @Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx4g", "-XX:+UseParallelGC", "-XX:ActiveProcessorCount=1"})
  public int tg128Threads1(Model m) {
    return m.decode();
  }

  /** tg128 on two threads (after a one-token prompt). */
  @Benchmark
  @Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx4g", "-XX:+UseParallelGC", "-XX:ActiveProcessorCount=2"})
  public int tg128Threads2(Model m) {
    return m.decode();
  }
}
