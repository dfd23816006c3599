package dev.aphelion.tritter.compress;

import dev.aphelion.tritter.kernel.Vectorization;
import java.lang.invoke.MethodHandles;

/**
 * Benchmark-only access to the count sketch's top-k selection ({@link TopKSelector}, package-private)
 * and its reference, so both are timed side by side in one JMH run. Lives in the library's package
 * (on the class path) only to reach them; not part of the library.
 */
public final class TopKAccess {
  private final TopKSelector selector;

  /** A selector on the Vector API kernels (fails when they are unavailable, rather than timing the scalar ones). */
  public TopKAccess() {
    selector = new TopKSelector(Vectorization.vector().select(CompressionKernels.class, ScalarCompressionKernels::new,
        MethodHandles.lookup(), "PanamaCompressionKernels"));
  }

  /** The one-pass selection (sampled threshold, filter, exact select on the candidates). */
  public int[] onePass(float[] v, int n, int k, long seed) {
    return selector.topK(v, n, k, seed);
  }

  /** The reference: radix selection over all n values, then two passes. */
  public static int[] radixAll(float[] v, int n, int k) {
    return CountSketch.topKReference(v, n, k);
  }
}
