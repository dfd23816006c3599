package dev.aphelion.tritter.ternary;

import dev.aphelion.tritter.kernel.RowPool;
import dev.aphelion.tritter.kernel.Vectorization;
import dev.aphelion.tritter.quant.Int8Activations;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A side-by-side probe of the int8 kernels for a machine shared with other work, where JMH's wall
 * times swing with the load: it alternates the current kernel ({@code PanamaTernaryKernels}) and
 * the frozen pre-issue-11 one ({@link BaselineTernaryKernels}) call by call on the same weights and
 * activations, checks that they agree bit for bit, and prints the minimum and median time of each
 * and the ratio. With {@code threads = 1} it times the calling thread's CPU time (time the thread
 * was descheduled does not count), with {@code 0} wall time on {@link RowPool#shared()}.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar \
 *   dev.aphelion.tritter.ternary.Int8KernelProbe ROWS COLS BATCH THREADS REPS
 * </pre>
 *
 * The activation quantization is not inside these times (it is the same for both).
 */
public final class Int8KernelProbe {
  static final java.lang.management.ThreadMXBean MX = java.lang.management.ManagementFactory.getThreadMXBean();
  static boolean cpu;
  static long now() { return cpu ? MX.getCurrentThreadCpuTime() : System.nanoTime(); }
  private Int8KernelProbe() {}

  /**
   * Runs the probe.
   *
   * @param a rows, cols, batch, threads (0: the shared pool, wall time; 1: one thread, CPU time; n: a pool of n, wall time), repetitions
   */
  public static void main(String[] a) {
    int rows = Integer.parseInt(a[0]), cols = Integer.parseInt(a[1]), batch = Integer.parseInt(a[2]);
    int threads = Integer.parseInt(a[3]);
    int reps = Integer.parseInt(a[4]);
    cpu = threads == 1;
    SplittableRandom rnd = new SplittableRandom(1);
    byte[] t = new byte[rows * cols];
    for (int i = 0; i < t.length; i++) t[i] = (byte) (rnd.nextInt(3) - 1);
    float[] s = new float[rows];
    for (int i = 0; i < rows; i++) s[i] = 0.5f + (float) rnd.nextDouble();
    PackedTernary w = PackedTernary.fromTrits(t, rows, cols, s, cols);
    float[] x = new float[batch * cols];
    for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextDouble() * 2 - 1);
    RowPool pool = threads == 0 ? RowPool.shared() : RowPool.create(threads);
    TernaryKernels nk = new PanamaTernaryKernels();
    TernaryKernels ok = new BaselineTernaryKernels();
    float[] y1 = new float[batch * rows], y2 = new float[batch * rows];
    Int8Activations q = Int8Activations.quantize(x, batch, cols);
    long[] tn = new long[reps], to = new long[reps];
    for (int r = 0; r < reps; r++) {
      long t0 = now();
      nk.matmulInt8(w, q.segment(), q.scales(), batch, null, y1, pool);
      long t1 = now();
      ok.matmulInt8(w, q.segment(), q.scales(), batch, null, y2, pool);
      long t2 = now();
      tn[r] = t1 - t0; to[r] = t2 - t1;
    }
    if (!Arrays.equals(y1, y2)) {
      System.out.println("MISMATCH between the current and the baseline kernel");
    }
    Arrays.sort(tn); Arrays.sort(to);
    double gw = (double) rows * cols * batch;
    System.out.printf("%dx%d b%d thr%d kernel=%s new min %.0f med %.0f us (%.1f Gw/s) | old min %.0f med %.0f us | ratio(med) %.2f%n",
        rows, cols, batch, threads, PanamaTernaryKernels.int8Kernel(w), tn[0] / 1e3, tn[reps / 2] / 1e3, gw / tn[reps/2], to[0] / 1e3, to[reps / 2] / 1e3, (double) to[reps/2] / tn[reps/2]);
    System.exit(0);
  }
}
