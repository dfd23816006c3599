package dev.aphelion.benchmarks;

import dev.aphelion.tritter.compress.MagnitudeSelection;
import java.util.Arrays;
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
 * The threshold step of top-k sparsification on its own: the k-th largest magnitude by the
 * library's radix selection, next to the plain baseline of sorting all magnitudes.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx4g"})
public class SelectionBenchmark {

  /** Number of values. */
  @Param({"2300000"})
  public int size;

  /** k as a fraction of the values (0.8 is what heavy hitters keep of its candidates at ratio 0.03). */
  @Param({"0.8", "0.01"})
  public double fraction;

  private float[] values;
  private float[] scratch;
  private int k;

  /** Heavy-tailed signed values, as gradients are. */
  @Setup(Level.Trial)
  public void setup() {
    values = CompressionBenchmark.heavyTailedGradient(size, 7);
    scratch = new float[size];
    k = Math.max(1, (int) (fraction * size));
  }

  /** The library's selection. */
  @Benchmark
  public float radixSelect() {
    return MagnitudeSelection.kthLargest(values, size, k);
  }

  /** Baseline: sort every magnitude, read the k-th from the top. */
  @Benchmark
  public float fullSort() {
    for (int i = 0; i < size; i++) {
      scratch[i] = Math.abs(values[i]);
    }
    Arrays.sort(scratch);
    return scratch[size - k];
  }
}
