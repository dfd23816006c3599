package dev.aphelion.tritter.model;

import dev.aphelion.core.error.ConfigException;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits: greedy (arg max, lowest index on ties) or temperature sampling
 * restricted to the top-k tokens and/or the top-p nucleus, from a seeded generator, so that a seed
 * always reproduces the same tokens.
 *
 * <p>Not thread-safe: one sampler per generated sequence.
 */
public final class Sampler {
  private final int topK;
  private final float temperature;
  private final float topP;
  private final SplittableRandom random;

  private Sampler(int topK, float temperature, long seed) {
    this(topK, temperature, 1f, seed);
  }

  private Sampler(int topK, float temperature, float topP, long seed) {
    this.topK = topK;
    this.temperature = temperature;
    this.topP = topP;
    this.random = new SplittableRandom(seed);
  }

  /** Arg max sampling. */
  public static Sampler greedy() {
    return new Sampler(1, 0f, 0L);
  }

  /**
   * Samples among the {@code k} most likely tokens after dividing the logits by {@code
   * temperature}.
   *
   * @param k tokens to keep, at least 1 (1 is greedy)
   * @param temperature positive; 0 means greedy
   * @param seed the generator's seed
   * @return the sampler
   * @throws ConfigException if {@code k < 1} or the temperature is negative or not finite
   */
  public static Sampler topK(int k, float temperature, long seed) {
    if (k < 1) {
      throw new ConfigException("top-k must be >= 1, got " + k);
    }
    if (!(temperature >= 0) || !Float.isFinite(temperature)) {
      throw new ConfigException("temperature must be >= 0 and finite, got " + temperature);
    }
    return new Sampler(k, temperature, seed);
  }

  /**
   * Samples after dividing the logits by {@code temperature}, among the {@code topK} most likely
   * tokens (0: all) and, of those, the smallest most-likely set whose probability reaches {@code
   * topP} (nucleus sampling; 1: no cut), as transformers' {@code TopKLogitsWarper} and {@code
   * TopPLogitsWarper} do.
   *
   * @param temperature positive; 0 means greedy
   * @param topK tokens to keep, 0 for all
   * @param topP nucleus mass in {@code (0, 1]}
   * @param seed the generator's seed
   * @return the sampler
   * @throws ConfigException naming the parameter that is out of range
   */
  public static Sampler of(float temperature, int topK, float topP, long seed) {
    if (topK < 0) {
      throw new ConfigException("top-k must be >= 0 (0: all tokens), got " + topK);
    }
    if (!(temperature >= 0) || !Float.isFinite(temperature)) {
      throw new ConfigException("temperature must be >= 0 and finite, got " + temperature);
    }
    if (!(topP > 0) || topP > 1) {
      throw new ConfigException("top-p must be in (0, 1], got " + topP);
    }
    return new Sampler(topK == 0 ? Integer.MAX_VALUE : topK, temperature, topP, seed);
  }

  /** Whether this sampler always takes the arg max. */
  public boolean isGreedy() {
    return topK == 1 || temperature == 0f;
  }

  /**
   * Picks a token.
   *
   * @param logits the logits
   * @param off offset of the first logit
   * @param vocab number of logits
   * @return the token index in {@code [0, vocab)}
   */
  public int sample(float[] logits, int off, int vocab) {
    if (isGreedy()) {
      return argMax(logits, off, vocab);
    }
    if (topK >= vocab && topP >= 1f) {
      return sampleAll(logits, off, vocab);
    }
    if (topK >= vocab || topP < 1f) {
      return sampleSorted(logits, off, vocab);
    }
    int k = Math.min(topK, vocab);
    // Keep the k best in a small sorted array (descending); k is small next to the vocabulary.
    int[] idx = new int[k];
    float[] val = new float[k];
    int filled = 0;
    for (int i = 0; i < vocab; i++) {
      float v = logits[off + i];
      if (filled == k && !(v > val[k - 1])) {
        continue;
      }
      int j = filled < k ? filled++ : k - 1;
      while (j > 0 && v > val[j - 1]) {
        val[j] = val[j - 1];
        idx[j] = idx[j - 1];
        j--;
      }
      val[j] = v;
      idx[j] = i;
    }
    double[] p = new double[filled];
    double sum = 0;
    for (int j = 0; j < filled; j++) {
      p[j] = Math.exp((val[j] - val[0]) / temperature);
      sum += p[j];
    }
    double u = random.nextDouble() * sum;
    for (int j = 0; j < filled; j++) {
      u -= p[j];
      if (u < 0) {
        return idx[j];
      }
    }
    return idx[filled - 1];
  }

  /** Plain temperature sampling over the whole vocabulary: no sort. */
  private int sampleAll(float[] logits, int off, int vocab) {
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < vocab; i++) {
      max = Math.max(max, logits[off + i]);
    }
    double[] p = new double[vocab];
    double sum = 0;
    for (int i = 0; i < vocab; i++) {
      float v = logits[off + i];
      p[i] = Float.isNaN(v) ? 0 : Math.exp((v - max) / temperature);
      sum += p[i];
    }
    double u = random.nextDouble() * sum;
    int last = 0;
    for (int i = 0; i < vocab; i++) {
      if (p[i] > 0) {
        last = i;
        u -= p[i];
        if (u < 0) {
          return i;
        }
      }
    }
    return last;
  }

  /** Full sort: needed for top-p and for top-k over (nearly) the whole vocabulary. */
  private int sampleSorted(float[] logits, int off, int vocab) {
    Integer[] order = new Integer[vocab];
    for (int i = 0; i < vocab; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (a, b) -> {
      int c = Float.compare(logits[off + b], logits[off + a]);
      return c != 0 ? c : Integer.compare(a, b);
    });
    int k = Math.min(topK, vocab);
    double max = logits[off + order[0]];
    double[] p = new double[k];
    double sum = 0;
    for (int j = 0; j < k; j++) {
      float v = logits[off + order[j]];
      p[j] = Float.isNaN(v) ? 0 : Math.exp((v - max) / temperature);
      sum += p[j];
    }
    int keep = k;
    if (topP < 1f) {
      double cum = 0;
      for (int j = 0; j < k; j++) {
        cum += p[j] / sum;
        if (cum >= topP) {
          keep = j + 1;
          break;
        }
      }
      sum = 0;
      for (int j = 0; j < keep; j++) {
        sum += p[j];
      }
    }
    double u = random.nextDouble() * sum;
    for (int j = 0; j < keep; j++) {
      u -= p[j];
      if (u < 0) {
        return order[j];
      }
    }
    return order[keep - 1];
  }

  /** Index of the largest logit, lowest index on ties; NaN never wins. */
  public static int argMax(float[] logits, int off, int vocab) {
    int best = 0;
    float bv = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < vocab; i++) {
      if (logits[off + i] > bv) {
        bv = logits[off + i];
        best = i;
      }
    }
    return best;
  }
}
