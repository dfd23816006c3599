package dev.aphelion.benchmarks;

import dev.aphelion.tritter.dense.DenseMatmul;
import dev.aphelion.tritter.quant.Int8Activations;
import dev.aphelion.tritter.ternary.BaselineTernary;
import dev.aphelion.tritter.ternary.PackedTernary;
import dev.aphelion.tritter.ternary.TernaryMatmul;
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
 * One token times a {@code rows x cols} weight matrix ({@code y = W·x}), the decode step of a
 * transformer layer: dense f32 ({@link DenseMatmul}) against packed ternary weights with float
 * activations and with int8 activations (the activation quantization is inside the timing). The
 * kernels split rows across all cores themselves; JMH runs one benchmark thread.
 *
 * <p>Throughput in weights per second is {@code rows * cols / time per op}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx3g", "-XX:+UseParallelGC"})
public class GemvBenchmark {

  /** Output features. */
  @Param({"4096", "14336"})
  public int rows;

  /** Input features. */
  @Param({"14336", "4096"})
  public int cols;

  private PackedTernary ternary;
  private float[] dense;
  private float[] x;
  private float[] y;
  private final TernaryMatmul ternaryMatmul = TernaryMatmul.get();
  private final DenseMatmul denseMatmul = DenseMatmul.get();

  /** Builds the weights (the dense matrix holds the same values as the ternary one). */
  @Setup(Level.Trial)
  public void setUp() {
    ternary = MatmulFixtures.ternary(rows, cols, 1);
    dense = MatmulFixtures.dense(ternary);
    x = MatmulFixtures.activations(cols, 2);
    y = new float[rows];
  }

  /** Dense f32 GEMV on the Vector API: the baseline. */
  @Benchmark
  public float[] denseFloat32() {
    denseMatmul.gemv(dense, rows, cols, x, y);
    return y;
  }

  /** Ternary weights times f32 activations. */
  @Benchmark
  public float[] ternaryFloat() {
    ternaryMatmul.gemv(ternary, x, y);
    return y;
  }

  /** Ternary weights times int8 activations, quantizing the activations first (W1.58A8). */
  @Benchmark
  public float[] ternaryInt8() {
    ternaryMatmul.gemvInt8(ternary, Int8Activations.quantize(x), y);
    return y;
  }

  /**
   * The int8 kernel as it was before issue 11 (a frozen copy, {@code BaselineTernary}), quantization
   * included: the "before" of every before/after ratio, measured in the same run.
   */
  @Benchmark
  public float[] ternaryInt8Baseline() {
    BaselineTernary.gemmInt8(ternary, Int8Activations.quantize(x), y);
    return y;
  }
}
