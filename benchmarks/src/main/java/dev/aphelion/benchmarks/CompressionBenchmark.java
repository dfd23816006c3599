package dev.aphelion.benchmarks;

import dev.aphelion.tritter.compress.CompressionConfig;
import dev.aphelion.tritter.compress.GradientCompressor;
import dev.aphelion.tritter.compress.GradientEncoding;
import dev.aphelion.tritter.compress.TernaryCompressedGradient;
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
 * both encodings.
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

  /** The encoding: HEAVY_HITTERS or VSA_SKETCH. */
  @Param({"HEAVY_HITTERS", "VSA_SKETCH"})
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
    compressor = new GradientCompressor(CompressionConfig.builder().compressionRatio(ratio).seed(1).encoding(encoding).build(), size);
    message = compressor.compress(gradient);
  }

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

  /** Adds the gradient to the residual, selects, codes and checksums one message. */
  @Benchmark
  public TernaryCompressedGradient compress() {
    return compressor.compress(gradient);
  }

  /** Decodes one message into a dense f32 array. */
  @Benchmark
  public float[] decompress() {
    compressor.decompressInto(message, out);
    return out;
  }
}
