package dev.aphelion.tritter.training;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.tritter.vsa.SplitMix64;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Evidence that compressed data-parallel training converges: softmax regression on a synthetic
 * 10-class task whose labels depend on all 400 features (a random linear teacher plus noise), 4
 * workers with their own mini-batches and compressors, SGD with momentum on the mean of the decoded
 * gradients. Also keeps the count-sketch baseline (the VSA bind + bundle + ternarize design) that
 * lost to heavy hitters, so the design choice stays checked.
 */
class CompressedTrainingTest {
  static final int D = 400, C = 10, N = 4096, WORKERS = 4, BATCH = 32, STEPS = 300;
  static final float LR = 0.02f, MOMENTUM = 0.9f;

  /** Encodes and decodes one worker's gradient; returns the decoded values. */
  interface Codec {
    float[] roundTrip(float[] gradient);
  }

  final float[][] x = new float[N][D];
  final int[] y = new int[N];

  CompressedTrainingTest() {
    SplittableRandom r = new SplittableRandom(1);
    double[][] teacher = new double[C][D];
    double[] featureScale = new double[D];
    for (int i = 0; i < D; i++) {
      featureScale[i] = Math.exp(0.7 * GradientCompressorTest.gaussian(r));
    }
    for (double[] row : teacher) {
      for (int i = 0; i < D; i++) {
        row[i] = GradientCompressorTest.gaussian(r);
      }
    }
    for (int s = 0; s < N; s++) {
      for (int i = 0; i < D; i++) {
        x[s][i] = r.nextDouble() < 0.3 ? (float) (GradientCompressorTest.gaussian(r) * featureScale[i]) : 0f;
      }
      double best = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < C; c++) {
        double z = 0;
        for (int i = 0; i < D; i++) {
          z += teacher[c][i] * x[s][i] / featureScale[i];
        }
        z = z / Math.sqrt(0.3 * D) + 0.3 * GradientCompressorTest.gaussian(r);
        if (z > best) {
          best = z;
          y[s] = c;
        }
      }
    }
  }

  /** Trains with one codec per worker (null = uncompressed) and returns the final full-data loss. */
  double train(List<Codec> codecs) {
    int n = C * D + C;
    float[] params = new float[n], velocity = new float[n];
    SplittableRandom batches = new SplittableRandom(7);
    for (int step = 0; step < STEPS; step++) {
      float[] mean = new float[n];
      for (int w = 0; w < WORKERS; w++) {
        float[] g = gradient(params, batches);
        float[] d = codecs == null ? g : codecs.get(w).roundTrip(g);
        for (int i = 0; i < n; i++) {
          mean[i] += d[i] / WORKERS;
        }
      }
      for (int i = 0; i < n; i++) {
        velocity[i] = MOMENTUM * velocity[i] + mean[i];
        params[i] -= LR * velocity[i];
      }
    }
    return loss(params);
  }

  /** Trains with compressors that aggregate through the wire, as a real job would. */
  double trainCompressed(TrainingConfig cfg) {
    int n = C * D + C;
    List<GradientCompressor> workers = GradientCompressor.forWorkers(cfg, n, WORKERS);
    float[] params = new float[n], velocity = new float[n];
    SplittableRandom batches = new SplittableRandom(7);
    for (int step = 0; step < STEPS; step++) {
      List<TernaryCompressedGradient> msgs = new ArrayList<>();
      for (int w = 0; w < WORKERS; w++) {
        msgs.add(workers.get(0).read(workers.get(w).compress(gradient(params, batches)).toBytes()));
      }
      float[] mean = workers.get(0).aggregate(msgs);
      for (int i = 0; i < n; i++) {
        velocity[i] = MOMENTUM * velocity[i] + mean[i];
        params[i] -= LR * velocity[i];
      }
    }
    return loss(params);
  }

  float[] gradient(float[] p, SplittableRandom r) {
    float[] g = new float[C * D + C];
    double[] z = new double[C];
    for (int b = 0; b < BATCH; b++) {
      int s = r.nextInt(N);
      logits(p, x[s], z);
      for (int c = 0; c < C; c++) {
        float gc = (float) ((z[c] - (y[s] == c ? 1 : 0)) / BATCH);
        for (int i = 0; i < D; i++) {
          g[c * D + i] += gc * x[s][i];
        }
        g[C * D + c] += gc;
      }
    }
    return g;
  }

  /** Softmax probabilities into z. */
  static void logits(float[] p, float[] xs, double[] z) {
    double max = Double.NEGATIVE_INFINITY;
    for (int c = 0; c < C; c++) {
      double v = p[C * D + c];
      for (int i = 0; i < D; i++) {
        v += p[c * D + i] * xs[i];
      }
      z[c] = v;
      max = Math.max(max, v);
    }
    double sum = 0;
    for (int c = 0; c < C; c++) {
      z[c] = Math.exp(z[c] - max);
      sum += z[c];
    }
    for (int c = 0; c < C; c++) {
      z[c] /= sum;
    }
  }

  double loss(float[] p) {
    double total = 0;
    double[] z = new double[C];
    for (int s = 0; s < N; s++) {
      logits(p, x[s], z);
      total -= Math.log(Math.max(z[y[s]], 1e-30));
    }
    return total / N;
  }

  @Test
  void compressedTrainingReachesTheUncompressedLoss() {
    double plain = train(null);
    double x10 = trainCompressed(TrainingConfig.builder().compressionFactor(10).seed(11).build());
    double x32 = trainCompressed(TrainingConfig.builder().compressionFactor(32).seed(11).build());
    double x100 = trainCompressed(TrainingConfig.builder().compressionFactor(100).seed(11).build());
    double noFeedback32 = trainCompressed(TrainingConfig.builder().compressionFactor(32).seed(11).errorFeedback(false).build());
    List<Codec> sketches = new ArrayList<>();
    for (int w = 0; w < WORKERS; w++) {
      sketches.add(new CountSketchBaseline(C * D + C, 1 / 32.0, 11));
    }
    double sketch32 = train(sketches);
    System.out.printf("final loss (initial %.4f): uncompressed %.4f, 10x %.4f, 32x %.4f, 100x %.4f, "
        + "32x without error feedback %.4f, 32x count sketch %.4f%n", Math.log(C), plain, x10, x32, x100, noFeedback32, sketch32);
    assertTrue(plain < 0.8 * Math.log(C), "the uncompressed run learns: " + plain);
    // stated margins (docs/architecture.md): 10x and 32x within 0.02 of the uncompressed loss, 100x within 0.05
    assertTrue(x10 <= plain + 0.02, "10x: " + x10 + " vs " + plain);
    assertTrue(x32 <= plain + 0.02, "32x: " + x32 + " vs " + plain);
    assertTrue(x100 <= plain + 0.05, "100x: " + x100 + " vs " + plain);
    assertTrue(sketch32 > x32, "heavy hitters beat the count sketch at 32x: " + sketch32 + " vs " + x32);
  }

  /**
   * The VSA count-sketch design measured against heavy hitters: each block of m coordinates is
   * rotated by a seeded offset and bound with a seeded ±1 key (both fresh every step), the blocks are
   * bundled (summed) into m buckets, bucket means are ternarized with a scale (2 bits per bucket,
   * threshold 0.7 mean|y|), and decoding unbinds (key × bucket value), with error feedback.
   */
  static final class CountSketchBaseline implements Codec {
    final int n, m;
    final long seed;
    final float[] residual;
    long step;

    CountSketchBaseline(int n, double ratio, long seed) {
      this.n = n;
      this.seed = seed;
      this.m = (int) Math.max(1, Math.min(n, (ratio * 32 * n - 8 * 44) / 2)); // 2 bits per bucket plus header
      this.residual = new float[n];
    }

    @Override
    public float[] roundTrip(float[] g) {
      for (int i = 0; i < n; i++) {
        residual[i] += g[i];
      }
      int blocks = (n + m - 1) / m;
      float[] buckets = new float[m];
      int[] counts = new int[m];
      for (int pass = 0; pass < 2; pass++) {
        for (int b = 0; b < blocks; b++) {
          SplitMix64 keys = new SplitMix64(seed ^ SplitMix64.mix64(step * 1_000_003L + b));
          int rot = keys.nextInt(m);
          long bits = 0;
          for (int j = 0, start = b * m; j < m && start + j < n; j++) {
            if ((j & 63) == 0) {
              bits = keys.nextLong();
            }
            boolean flip = ((bits >>> (j & 63)) & 1) != 0;
            int pos = (j + rot) % m;
            if (pass == 0) {
              buckets[pos] += flip ? -residual[start + j] : residual[start + j];
              counts[pos]++;
            } else {
              float v = flip ? -buckets[pos] : buckets[pos];
              residual[start + j] -= v;
              decoded[start + j] = v;
            }
          }
        }
        if (pass == 0) {
          double meanAbs = 0;
          for (int j = 0; j < m; j++) {
            buckets[j] = counts[j] == 0 ? 0 : buckets[j] / counts[j];
            meanAbs += Math.abs(buckets[j]);
          }
          meanAbs /= m;
          double threshold = 0.7 * meanAbs, sum = 0;
          int kept = 0;
          for (float v : buckets) {
            if (Math.abs(v) > threshold) {
              sum += Math.abs(v);
              kept++;
            }
          }
          float scale = kept == 0 ? 0f : (float) (sum / kept);
          for (int j = 0; j < m; j++) {
            buckets[j] = Math.abs(buckets[j]) > threshold ? Math.copySign(scale, buckets[j]) : 0f;
          }
          decoded = new float[n];
        }
      }
      step++;
      return decoded;
    }

    private float[] decoded;
  }
}
