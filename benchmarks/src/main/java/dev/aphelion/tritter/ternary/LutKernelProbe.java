package dev.aphelion.tritter.ternary;

import dev.aphelion.benchmarks.MatmulFixtures;
import dev.aphelion.tritter.kernel.RowPool;
import dev.aphelion.tritter.quant.Int8Activations;
import java.util.Arrays;

/**
 * A side-by-side probe of the activation-parallel table kernel ({@link PanamaLutKernels}) against
 * the per-row int8 kernel this JVM would otherwise run ({@code word256} or {@code lut512x4}),
 * alternated call by call on the same weights and activations; checks that they agree bit for bit
 * and prints the minimum and median time of each. With {@code threads = 1} it times the calling
 * thread's CPU time, with {@code 0} wall time on {@link RowPool#shared()}.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar \
 *   dev.aphelion.tritter.ternary.LutKernelProbe ROWS COLS BATCH THREADS REPS
 * </pre>
 *
 * The activation quantization is not inside these times (it is the same for both).
 */
public final class LutKernelProbe {
  private static final java.lang.management.ThreadMXBean MX = java.lang.management.ManagementFactory.getThreadMXBean();
  private static boolean cpu;

  private LutKernelProbe() {}

  private static long now() {
    return cpu ? MX.getCurrentThreadCpuTime() : System.nanoTime();
  }

  /**
   * Runs the probe.
   *
   * @param a rows, cols, batch, threads (0: the shared pool, wall time; 1: one thread, CPU time; n: a pool of n, wall time), repetitions
   */
  public static void main(String[] a) {
    int rows = Integer.parseInt(a[0]);
    int cols = Integer.parseInt(a[1]);
    int batch = Integer.parseInt(a[2]);
    int threads = Integer.parseInt(a[3]);
    int reps = Integer.parseInt(a[4]);
    cpu = threads == 1;
    PackedTernary w = MatmulFixtures.ternary(rows, cols, 1);
    float[] x = MatmulFixtures.activations(batch * cols, 2);
    RowPool pool = threads == 0 ? RowPool.shared() : RowPool.create(threads);
    float[] y1 = new float[batch * rows];
    float[] y2 = new float[batch * rows];
    Int8Activations q = Int8Activations.quantize(x, batch, cols);
    long[] tn = new long[reps];
    long[] to = new long[reps];
    for (int r = 0; r < reps; r++) {
      long t0 = now();
      PanamaLutKernels.matmulInt8(w, q.segment(), q.scales(), batch, null, y1, pool);
      long t1 = now();
      PanamaTernaryKernels.matmulInt8PerRow(w, q.segment(), q.scales(), batch, null, y2, pool);
      long t2 = now();
      tn[r] = t1 - t0;
      to[r] = t2 - t1;
    }
    if (!Arrays.equals(y1, y2)) {
      System.out.println("MISMATCH between the table kernel and the per-row kernel");
    }
    Arrays.sort(tn);
    Arrays.sort(to);
    double gw = (double) rows * cols * batch;
    System.out.printf("%dx%d b%d thr%d alut%d vs %s: alut min %.0f med %.0f us (%.1f G/s) | per-row min %.0f med %.0f us (%.1f G/s) | ratio(med) %.2f%n",
        rows, cols, batch, threads, PanamaLutKernels.bits(), PanamaTernaryKernels.int8Kernel(w, Math.min(batch, 8)), tn[0] / 1e3,
        tn[reps / 2] / 1e3, gw / tn[reps / 2], to[0] / 1e3, to[reps / 2] / 1e3, gw / to[reps / 2], (double) to[reps / 2] / tn[reps / 2]);
    System.exit(0);
  }
}
