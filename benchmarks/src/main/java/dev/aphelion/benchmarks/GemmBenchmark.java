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
 * A batch of tokens times a {@code rows x cols} weight matrix ({@code Y = X·Wᵀ}): prefill and
 * batched decoding. Same three methods as {@link GemvBenchmark}.
 *
 * <p>Throughput in weight-token products per second is {@code rows * cols * batch / time per op}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx3g", "-XX:+UseParallelGC"})
public class GemmBenchmark {

  /** Output features. */
  @Param({"4096"})
  public int rows;

  /** Input features. */
  @Param({"4096"})
  public int cols;

  /** Tokens. */
  @Param({"8", "512"})
  public int batch;

  private PackedTernary ternary;
  private float[] dense;
  private float[] x;
  private float[] y;
  private final TernaryMatmul ternaryMatmul = TernaryMatmul.get();
  private final DenseMatmul denseMatmul = DenseMatmul.get();

  /** Builds the weights and a batch of activations. */
  @Setup(Level.Trial)
  public void setUp() {
    ternary = MatmulFixtures.ternary(rows, cols, 1);
    dense = MatmulFixtures.dense(ternary);
    x = MatmulFixtures.activations(batch * cols, 2);
    y = new float[batch * rows];
  }

  /** Dense f32 GEMM on the Vector API: the baseline. */
  @Benchmark
  public float[] denseFloat32() {
    denseMatmul.gemm(dense, rows, cols, x, batch, y);
    return y;
  }

  /** Ternary weights times f32 activations. */
  @Benchmark
  public float[] ternaryFloat() {
    ternaryMatmul.gemm(ternary, x, batch, y);
    return y;
  }

  /** Ternary weights times int8 activations, quantizing the activations first. */
  @Benchmark
  public float[] ternaryInt8() {
    ternaryMatmul.gemmInt8(ternary, Int8Activations.quantize(x, batch, cols), y);
    return y;
  }

  /**
   * The int8 kernel as it was before issue 11 (a frozen copy, {@code BaselineTernary}), quantization
   * included: the "before" of every before/after ratio, measured in the same run.
   */
  @Benchmark
  public float[] ternaryInt8Baseline() {
    BaselineTernary.gemmInt8(ternary, Int8Activations.quantize(x, batch, cols), y);
    return y;
  }
}
