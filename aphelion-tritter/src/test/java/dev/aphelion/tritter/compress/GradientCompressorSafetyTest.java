package dev.aphelion.tritter.compress;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ShapeException;
import org.junit.jupiter.api.Test;

/** Regressions for misuse of a compressor: sizes it cannot hold, and sharing it between threads. */
class GradientCompressorSafetyTest {

  static float[] gradient(int n, long seed) {
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    float[] g = new float[n];
    for (int i = 0; i < n; i++) {
      g[i] = (float) r.nextGaussian();
    }
    return g;
  }

  /** A second thread calling in while the first is inside a stateful method is refused, deterministically. */
  @Test
  void overlappingUseFromAnotherThreadIsDetected() throws Exception {
    GradientCompressor c = new GradientCompressor(CompressionConfig.defaults(), 1000);
    TernaryCompressedGradient m = c.compress(gradient(1000, 1));
    java.util.concurrent.CountDownLatch inside = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    // A list that parks the aggregating thread inside aggregateInto, holding the compressor.
    java.util.List<TernaryCompressedGradient> parking = new java.util.AbstractList<>() {
      @Override
      public TernaryCompressedGradient get(int i) {
        inside.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          throw new AssertionError(e);
        }
        return m;
      }

      @Override
      public int size() {
        return 1;
      }
    };
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newSingleThreadExecutor();
    try {
      java.util.concurrent.Future<float[]> agg = pool.submit(() -> c.aggregate(parking));
      inside.await();
      for (Runnable call : new Runnable[] {
          () -> c.compress(gradient(1000, 2)), () -> c.decompress(m), c::reset, c::residual, c::stats,
          () -> c.aggregate(java.util.List.of(m))}) {
        java.util.ConcurrentModificationException e = assertThrows(java.util.ConcurrentModificationException.class, call::run);
        assertTrue(e.getMessage().contains("not thread-safe"), e.getMessage());
      }
      release.countDown();
      agg.get();
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
    // Released: the compressor is usable again, from any thread, and its state was not touched.
    org.junit.jupiter.api.Assertions.assertEquals(1, c.step());
    c.compress(gradient(1000, 3));
  }

  /** Calls that do not overlap may hop threads (a worker pool) and give the single-thread bytes. */
  @Test
  void sequentialHandOffBetweenThreadsMatchesOneThread() throws Exception {
    for (GradientEncoding enc : GradientEncoding.values()) {
      CompressionConfig cfg = CompressionConfig.builder().encoding(enc).build();
      GradientCompressor one = new GradientCompressor(cfg, 5000);
      GradientCompressor hop = new GradientCompressor(cfg, 5000);
      java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(3);
      try {
        for (int step = 0; step < 12; step++) {
          float[] g = gradient(5000, step);
          byte[] expected = Rounds.compress(one, g).toBytes();
          byte[] got = pool.submit(() -> Rounds.compress(hop, g).toBytes()).get();
          org.junit.jupiter.api.Assertions.assertArrayEquals(expected, got, enc + " step " + step);
        }
      } finally {
        pool.shutdownNow();
      }
      org.junit.jupiter.api.Assertions.assertArrayEquals(one.residual(), hop.residual());
    }
  }

  /**
   * The reported race: two threads compressing on one compressor. Every call now either succeeds
   * or is refused; the successful messages have distinct steps and decode on a receiver.
   */
  @Test
  void racingThreadsNeverCorruptSilently() throws Exception {
    for (GradientEncoding enc : GradientEncoding.values()) {
      // the count sketch's two rounds cannot interleave across racing steps: race its round 1 alone
      CompressionConfig cfg = CompressionConfig.builder().encoding(enc).errorFeedback(!enc.isLinear()).build();
      GradientCompressor shared = new GradientCompressor(cfg, 20_000);
      GradientCompressor receiver = new GradientCompressor(cfg, 20_000);
      java.util.Set<Long> steps = java.util.concurrent.ConcurrentHashMap.newKeySet();
      java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();
      java.util.List<byte[]> messages = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
      java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
      Runnable worker = () -> {
        for (int i = 0; i < 200 && failure.get() == null; i++) {
          try {
            TernaryCompressedGradient m = shared.compress(gradient(20_000, i));
            assertTrue(steps.add(m.step()), "duplicate step " + m.step());
            messages.add(m.toBytes());
          } catch (java.util.ConcurrentModificationException e) {
            refused.incrementAndGet();
          } catch (Throwable t) {
            failure.compareAndSet(null, t);
          }
        }
      };
      Thread a = new Thread(worker);
      Thread b = new Thread(worker);
      a.start();
      b.start();
      a.join();
      b.join();
      if (failure.get() != null) {
        throw new AssertionError(enc + ": " + failure.get(), failure.get());
      }
      org.junit.jupiter.api.Assertions.assertEquals(400, steps.size() + refused.get());
      for (byte[] wire : messages) {
        receiver.decompress(receiver.read(wire));
      }
    }
  }

  /** A compressor for 2^31-1 parameters threw OutOfMemoryError ("Requested array size exceeds VM limit"). */
  @Test
  void hugeDimensionIsAClearError() {
    ShapeException e = assertThrows(ShapeException.class, () -> new GradientCompressor(CompressionConfig.defaults(), Integer.MAX_VALUE));
    assertTrue(e.getMessage().contains("split the parameters"), e.getMessage());
  }

  @Test
  void dimensionBeyondTheHeapIsAClearError() {
    assumeTrue(Runtime.getRuntime().maxMemory() < 4L * GradientCompressor.MAX_DIMENSION, "the heap could hold it");
    ConfigException e = assertThrows(ConfigException.class,
        () -> new GradientCompressor(CompressionConfig.defaults(), GradientCompressor.MAX_DIMENSION));
    assertTrue(e.getMessage().contains("-Xmx"), e.getMessage());
  }
}
