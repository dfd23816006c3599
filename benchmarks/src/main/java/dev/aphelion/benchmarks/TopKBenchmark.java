package dev.aphelion.benchmarks;

import dev.aphelion.tritter.compress.TopKAccess;
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
 * The count sketch's selection step on its own: the indices of the k largest of n estimates, by
 * the one-pass selection, by its reference (radix selection over all values), and by the plain
 * baseline (sort every magnitude, then one pass for the indices). All three return the same
 * indices when no magnitude ties at the threshold (the tie rule costs the sort nothing here).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx4g"})
public class TopKBenchmark {

  /** Number of estimates (the gradient size). */
  @Param({"10000000"})
  public int size;

  /** k / n: 0.05 is the count sketch's at ratio 0.03 (k = 2c, c = budget / 5), 0.016 at 0.01. */
  @Param({"0.05", "0.016"})
  public double fraction;

  private float[] values;
  private float[] scratch;
  private int k;
  private TopKAccess access;

  /** Heavy-tailed signed values, as the estimates are. */
  @Setup(Level.Trial)
  public void setup() {
    values = CompressionBenchmark.heavyTailedGradient(size, 7);
    scratch = new float[size];
    k = Math.max(1, (int) (fraction * size));
    access = new TopKAccess();
  }

  /** The library's selection. */
  @Benchmark
  public int[] onePass() {
    return access.onePass(values, size, k, 11);
  }

  /** Its reference, the previous selection. */
  @Benchmark
  public int[] radixAll() {
    return TopKAccess.radixAll(values, size, k);
  }

  /** Baseline: sort every magnitude, take the k-th from the top, one pass for the indices. */
  @Benchmark
  public int[] fullSort() {
    for (int i = 0; i < size; i++) {
      scratch[i] = Math.abs(values[i]);
    }
    Arrays.sort(scratch);
    float tau = scratch[size - k];
    int[] out = new int[k];
    int m = 0;
    for (int i = 0; i < size && m < k; i++) {
      if (Math.abs(values[i]) >= tau) {
        out[m++] = i;
      }
    }
    return out;
  }
}
