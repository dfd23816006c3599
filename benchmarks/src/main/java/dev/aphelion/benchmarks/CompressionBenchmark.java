package dev.aphelion.benchmarks;

import dev.aphelion.tritter.compress.CompressionConfig;
import dev.aphelion.tritter.compress.GradientCompressor;
import dev.aphelion.tritter.compress.GradientEncoding;
import dev.aphelion.tritter.compress.TernaryCompressedGradient;
import dev.aphelion.tritter.kernel.Vectorization;
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
 * Gradient compression throughput: {@code compress} (error feedback on, so each call also updates
 * the residual) and {@code decompress} of an f32 gradient with heavy-tailed values, one thread, for
 * every encoding.
 * GB/s of f32 gradient = {@code 4 * size / time}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx4g"})
public class CompressionBenchmark {

  /** Gradient length in f32 values. */
  @Param({"1000000", "10000000"})
  public int size;

  /** Target wire fraction: 0.1 = 10x, 0.03 = 33x, 0.01 = 100x. */
  @Param({"0.1", "0.03", "0.01"})
  public double ratio;

  /** The encoding: HEAVY_HITTERS, VSA_SKETCH or COUNT_SKETCH. */
  @Param({"HEAVY_HITTERS", "VSA_SKETCH", "COUNT_SKETCH"})
  public GradientEncoding encoding;

  private float[] gradient;
  private float[] out;
  private GradientCompressor compressor;
  private TernaryCompressedGradient message;

  /** Builds the gradient, the compressor and one message to decode. */
  @Setup(Level.Trial)
  public void setup() {
    gradient = heavyTailedGradient(size, 42);
    out = new float[size];
    // the Vector API path explicitly: -jvmArgsAppend replaces the --add-modules below, and the
    // process-wide choice would then fall back to the scalar kernels (5-6x slower) without failing
    compressor = new GradientCompressor(CompressionConfig.builder().compressionRatio(ratio).seed(1).encoding(encoding).build(), size,
        Vectorization.vector());
    message = compressor.compress(gradient);
    if (encoding.isLinear()) {
      chosen = compressor.select(message);
      values = compressor.values(message, chosen);
    }
  }

  private int[] chosen;
  private TernaryCompressedGradient values;

  /** Gaussian values scaled by a log-uniform factor in [e^-1, e], times 1e-3: heavy-tailed, as gradients are. */
  static float[] heavyTailedGradient(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] g = new float[n];
    for (int i = 0; i < n; i++) {
      double gauss = Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
      g[i] = (float) (gauss * Math.exp(r.nextDouble() * 2 - 1)) * 1e-3f;
    }
    return g;
  }

  /**
   * Adds the gradient to the residual, selects, codes and checksums one message; for the count
   * sketch the worker's side of both rounds (the table, then the values at the coordinates chosen
   * from it).
   */
  @Benchmark
  public TernaryCompressedGradient compress() {
    TernaryCompressedGradient t = compressor.compress(gradient);
    return encoding.isLinear() ? compressor.values(t, chosen) : t;
  }

  /**
   * Decodes one message into a dense f32 array; for the count sketch the receiver's side: the
   * selection from a table, then the values scattered.
   */
  @Benchmark
  public float[] decompress() {
    if (encoding.isLinear()) {
      chosen = compressor.select(message);
      compressor.scatter(values, chosen, out);
    } else {
      compressor.decompressInto(message, out);
    }
    return out;
  }
}
