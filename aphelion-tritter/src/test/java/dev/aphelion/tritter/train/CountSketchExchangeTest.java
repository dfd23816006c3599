package dev.aphelion.tritter.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.tritter.compress.CompressionConfig;
import dev.aphelion.tritter.compress.GradientCompressor;
import dev.aphelion.tritter.compress.GradientEncoding;
import dev.aphelion.tritter.compress.TernaryCompressedGradient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The count sketch through MessageExchange: two all-gathers, summed tables, the same bits everywhere. */
class CountSketchExchangeTest {

  @Test
  void everyWorkerAppliesTheSameSumAndAnEmptyWorkerKeepsStep() throws Exception {
    int n = 30_011, workers = 3;
    ExchangeSettings settings = new ExchangeSettings(true, 32, 5, true, GradientEncoding.COUNT_SKETCH);
    InProcessExchange ex = InProcessExchange.create(workers, n, settings, Duration.ofSeconds(30));
    CompressionConfig cfg = settings.wireCompressionConfig(n); // what the exchange sizes its compressors with
    // an independent replay of the protocol on plain compressors
    List<GradientCompressor> replay = GradientCompressor.forWorkers(cfg, n, workers);
    GradientCompressor rx = new GradientCompressor(cfg, n);
    SplittableRandom rnd = new SplittableRandom(3);
    ExecutorService pool = Executors.newFixedThreadPool(workers);
    try {
      for (long step = 0; step < 4; step++) {
        float[][] g = new float[workers][n];
        for (float[] row : g) {
          for (int i = 0; i < n; i++) {
            row[i] = (float) (rnd.nextGaussian() * (rnd.nextInt(30) == 0 ? 10 : 1));
          }
        }
        long[] counts = {5, step == 1 ? 0 : 3, 2};
        long s = step;
        List<CompletableFuture<float[]>> fs = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
          int rank = w;
          fs.add(CompletableFuture.supplyAsync(() -> {
            float[] out = new float[n];
            ex.member(rank).allReduce(s, g[rank], counts[rank], out);
            return out;
          }, pool));
        }
        List<float[]> outs = new ArrayList<>();
        for (CompletableFuture<float[]> f : fs) {
          outs.add(f.get(60, TimeUnit.SECONDS));
        }
        for (float[] o : outs) {
          assertArrayEquals(outs.get(0), o, "step " + step + ": every worker gets the same bits");
        }
        long total = 0;
        for (long c : counts) {
          total += c;
        }
        List<TernaryCompressedGradient> tables = new ArrayList<>();
        List<Integer> senders = new ArrayList<>();
        float[] weights = new float[workers];
        int m = 0;
        for (int w = 0; w < workers; w++) {
          if (counts[w] == 0) {
            replay.get(w).skipStep();
            continue;
          }
          tables.add(replay.get(w).compress(g[w]));
          senders.add(w);
          weights[m++] = (float) ((double) counts[w] / total);
        }
        float[] wts = java.util.Arrays.copyOf(weights, m);
        int[] chosen = rx.select(rx.combine(tables, wts));
        List<TernaryCompressedGradient> values = new ArrayList<>();
        for (int j = 0; j < m; j++) {
          values.add(replay.get(senders.get(j)).values(tables.get(j), chosen));
        }
        float[] expect = new float[n];
        rx.scatter(rx.combine(values, wts), chosen, expect);
        assertArrayEquals(expect, outs.get(0), "step " + step);
        for (int w = 0; w < workers; w++) {
          assertArrayEquals(replay.get(w).residual(), ex.member(w).residual(), "residual of worker " + w);
        }
      }
    } finally {
      pool.shutdownNow();
    }
    ExchangeStats st = ex.member(0).stats();
    assertEquals(4, st.steps());
    double factor = 4.0 * n * 4 / st.messageBytes();
    assertTrue(factor > 25, "both rounds together about 32x smaller: " + factor);
  }
}
