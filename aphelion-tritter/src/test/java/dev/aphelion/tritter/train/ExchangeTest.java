package dev.aphelion.tritter.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.SerializationException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The gradient exchange SPI: weighting, empty and non-finite workers, bad messages, timeouts, compression. */
class ExchangeTest {

  /** Runs one exchange step on every member, each on its own thread. */
  private static List<float[]> step(InProcessExchange ex, long step, float[][] grads, long[] counts,
      List<GradientExchange.Result> results) throws Exception {
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(grads.length);
    List<CompletableFuture<float[]>> fs = new ArrayList<>();
    for (int w = 0; w < grads.length; w++) {
      int rank = w;
      fs.add(CompletableFuture.supplyAsync(() -> {
        float[] out = new float[grads[rank].length];
        GradientExchange.Result r = ex.member(rank).allReduce(step, grads[rank], counts[rank], out);
        synchronized (results) {
          results.add(r);
        }
        return out;
      }, pool));
    }
    List<float[]> outs = new ArrayList<>();
    for (CompletableFuture<float[]> f : fs) {
      outs.add(f.get(30, TimeUnit.SECONDS));
    }
    pool.shutdown();
    return outs;
  }

  @Test
  void float32MeanIsWeightedByExamplesAndIgnoresEmptyWorkers() throws Exception {
    InProcessExchange ex = InProcessExchange.create(3, 4, ExchangeSettings.float32(), Duration.ofSeconds(20));
    float[][] g = {{1, 1, 1, 1}, {5, 5, 5, 5}, {100, 100, 100, 100}};
    List<GradientExchange.Result> results = new ArrayList<>();
    List<float[]> outs = step(ex, 0, g, new long[] {3, 1, 0}, results);
    for (float[] o : outs) {
      assertArrayEquals(new float[] {2, 2, 2, 2}, o, "(3·1 + 1·5) / 4; the empty worker counts for nothing");
    }
    for (GradientExchange.Result r : results) {
      assertEquals(4, r.examples());
      assertTrue(r.finite());
    }
    ExchangeStats s = ex.member(0).stats();
    assertEquals(1, s.steps());
    assertEquals(MessageExchange.HEADER_BYTES + 16, s.messageBytes());
    assertEquals(MessageExchange.HEADER_BYTES, ex.member(2).stats().messageBytes(), "an empty worker sends the header only");
    // the next step (other slot parity) works too, and a NaN anywhere marks the step for skipping
    results.clear();
    g[1][2] = Float.NaN;
    step(ex, 1, g, new long[] {1, 1, 1}, results);
    for (GradientExchange.Result r : results) {
      assertFalse(r.finite());
    }
  }

  @Test
  void compressedExchangeIsSmallAndEveryWorkerGetsTheSameBits() throws Exception {
    int n = 20_000;
    InProcessExchange ex = InProcessExchange.create(2, n, ExchangeSettings.compressed(32, 7), Duration.ofSeconds(20));
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(1);
    float[][] g = new float[2][n];
    for (float[] row : g) {
      for (int i = 0; i < n; i++) {
        row[i] = (float) Buffers.gaussian(rnd);
      }
    }
    List<GradientExchange.Result> results = new ArrayList<>();
    List<float[]> outs = step(ex, 0, g, new long[] {8, 8}, results);
    assertArrayEquals(outs.get(0), outs.get(1));
    ExchangeStats s = ex.member(0).stats();
    // the factor is for what travels: the whole message as 7-bit text (8/7 of it) is 32x smaller
    assertTrue(s.ratio() >= 32 * 8.0 / 7 && s.ratio() <= 32 * 1.4, "ratio " + s.ratio());
    // the decoded mean points the same way as the true mean
    double dot = 0;
    double nt = 0;
    double nd = 0;
    for (int i = 0; i < n; i++) {
      double t = (g[0][i] + g[1][i]) / 2;
      dot += t * outs.get(0)[i];
      nt += t * t;
      nd += (double) outs.get(0)[i] * outs.get(0)[i];
    }
    assertTrue(dot / Math.sqrt(nt * nd) > 0.2, "cosine " + dot / Math.sqrt(nt * nd));
    assertTrue(Arrays.stream(new double[] {nd}).allMatch(v -> v > 0));
  }

  @Test
  void aMissingWorkerTimesOutAndAnAbortReleasesTheOthers() {
    InProcessExchange ex = InProcessExchange.create(2, 3, ExchangeSettings.float32(), Duration.ofMillis(300));
    long t0 = System.nanoTime();
    AphelionException e = assertThrows(AphelionException.class,
        () -> ex.member(0).allReduce(0, new float[3], 1, new float[3]));
    assertTrue(e.getMessage().contains("waited more than"), e.getMessage());
    assertTrue(System.nanoTime() - t0 < 10_000_000_000L);

    InProcessExchange ex2 = InProcessExchange.create(2, 3, ExchangeSettings.float32(), Duration.ofMinutes(5));
    CompletableFuture<Void> waiting = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try {
        ex2.member(0).allReduce(0, new float[3], 1, new float[3]);
        waiting.complete(null);
      } catch (RuntimeException failure) {
        waiting.completeExceptionally(failure);
      }
    });
    t.start();
    while (!waiting.isDone()) {
      ex2.abort();
      Thread.onSpinWait();
      try {
        waiting.get(50, TimeUnit.MILLISECONDS);
      } catch (Exception ignored) {
        // retried until the waiter is released
      }
    }
    assertTrue(waiting.isCompletedExceptionally());
  }

  /** A transport that corrupts what it carries. */
  private static final class Corrupting extends MessageExchange {
    private final int mode;

    Corrupting(int mode) {
      super(0, 1, 4, ExchangeSettings.float32());
      this.mode = mode;
    }

    @Override
    protected List<byte[]> allGather(long step, byte[] message) {
      byte[] m = message.clone();
      switch (mode) {
        case 0 -> m[0] ^= 1;
        case 1 -> m = Arrays.copyOf(m, 10);
        case 2 -> m[14] ^= 1; // step
        default -> m = Arrays.copyOf(m, m.length - 4);
      }
      return List.of(m);
    }
  }

  @Test
  void corruptMessagesAreRejected() {
    for (int mode = 0; mode < 4; mode++) {
      Corrupting c = new Corrupting(mode);
      assertThrows(SerializationException.class, () -> c.allReduce(0, new float[4], 1, new float[4]), "mode " + mode);
    }
  }

  @Test
  void twoWorkersFloat32AndCompressedTrainTheSameModelToTheSameAccuracy() {
    Examples train = TrainingTest.TRAIN;
    Examples test = TrainingTest.TEST;
    Sequential f32 = TrainingTest.bitnetMlp(11);
    Sequential c32 = TrainingTest.bitnetMlp(11);
    TrainingResult a = DataParallelTrainer.fit(f32, train, test, TrainingTest.config(6), 2, ExchangeSettings.float32());
    TrainingResult b = DataParallelTrainer.fit(c32, train, test, TrainingTest.config(6), 2, ExchangeSettings.compressed(32, 5));
    double accA = a.epochs().getLast().evalAccuracy();
    double accB = b.epochs().getLast().evalAccuracy();
    assertTrue(accA >= 0.95, "float32 accuracy " + accA);
    assertTrue(accB >= accA - 0.03, "32x compressed accuracy " + accB + " vs float32 " + accA);
    ExchangeStats sb = b.workers().getFirst().exchange();
    assertTrue(sb.ratio() > 20, "compressed messages are " + sb.ratio() + "x smaller");
    assertEquals(a.workers().getFirst().steps(), b.workers().getFirst().steps());
    // 1203 rows in partitions of 601 and 602, local batch 32: 19 steps per epoch, the last ones short
    assertEquals(6L * 19, a.workers().getFirst().steps());
    assertEquals(train.count(), a.epochs().getLast().seen());
    System.out.printf("in-process 2 workers: f32 %.3f (%.2f ms/step, %.0f B/step), 32x %.3f (%.2f ms/step, %.0f B/step, %.1fx)%n",
        accA, a.millisPerStep(), a.messageBytesPerStep(), accB, b.millisPerStep(), b.messageBytesPerStep(), sb.ratio());
  }
}
