package dev.aphelion.tritter.model;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ShapeException;
import java.util.Arrays;
import java.util.Objects;
import java.util.Set;

/**
 * Autoregressive generation for one sequence with streaming: the prompt is fed in one call (its
 * projections run as one matrix-matrix product), then one token at a time is sampled, handed to a
 * {@link TokenListener} as soon as it is chosen, and fed back.
 *
 * <pre>{@code
 * Generation.Result r = Generation.run(model, promptIds, Generation.Options.greedy(64).withStopTokens(Set.of(eos)),
 *     token -> { System.out.print(decode(token)); return true; });
 * }</pre>
 */
public final class Generation {

  private Generation() {}

  /** Receives each generated token as soon as it is sampled. */
  @FunctionalInterface
  public interface TokenListener {
    /**
     * Called once per generated token, stop tokens included.
     *
     * @param token the token
     * @return {@code false} to stop generating after this token
     */
    boolean onToken(int token);
  }

  /** Why generation ended. */
  public enum StopReason {
    /** {@code maxNewTokens} tokens were generated. */
    MAX_TOKENS,
    /** A stop token was generated (it is the last token of the result). */
    STOP_TOKEN,
    /** The listener returned {@code false}. */
    LISTENER,
    /** The model's context ({@code maxPositions}) is full. */
    CONTEXT_FULL
  }

  /**
   * Generation settings.
   *
   * @param maxNewTokens tokens to generate at most, {@code >= 0}
   * @param sampler picks each token (see {@link Sampler#of})
   * @param repetitionPenalty transformers' {@code repetition_penalty}: each logit of a token already
   *     in the prompt or the output is divided by it when positive and multiplied by it when
   *     negative; 1 turns it off
   * @param stopTokens tokens that end generation
   * @param maxPositions context length: prompt plus generated tokens never exceed it
   */
  public record Options(int maxNewTokens, Sampler sampler, float repetitionPenalty, Set<Integer> stopTokens, int maxPositions) {

    /**
     * Validates the settings.
     *
     * @throws ConfigException naming the setting that is out of range
     */
    public Options {
      Objects.requireNonNull(sampler, "sampler");
      if (maxNewTokens < 0) {
        throw new ConfigException("maxNewTokens must be >= 0, got " + maxNewTokens);
      }
      if (!(repetitionPenalty > 0) || !Float.isFinite(repetitionPenalty)) {
        throw new ConfigException("repetitionPenalty must be positive and finite, got " + repetitionPenalty);
      }
      if (maxPositions < 1) {
        throw new ConfigException("maxPositions must be positive, got " + maxPositions);
      }
      stopTokens = Set.copyOf(stopTokens);
    }

    /**
     * Greedy decoding without stop tokens or penalty, context 4096.
     *
     * @param maxNewTokens tokens to generate at most
     * @return the options
     */
    public static Options greedy(int maxNewTokens) {
      return new Options(maxNewTokens, Sampler.greedy(), 1f, Set.of(), 4096);
    }

    /**
     * These options with other stop tokens.
     *
     * @param tokens the stop tokens
     * @return the new options
     */
    public Options withStopTokens(Set<Integer> tokens) {
      return new Options(maxNewTokens, sampler, repetitionPenalty, tokens, maxPositions);
    }

    /**
     * These options with another sampler.
     *
     * @param s the sampler
     * @return the new options
     */
    public Options withSampler(Sampler s) {
      return new Options(maxNewTokens, s, repetitionPenalty, stopTokens, maxPositions);
    }

    /**
     * These options with another repetition penalty.
     *
     * @param penalty the penalty, 1 for none
     * @return the new options
     */
    public Options withRepetitionPenalty(float penalty) {
      return new Options(maxNewTokens, sampler, penalty, stopTokens, maxPositions);
    }

    /**
     * These options with another context length.
     *
     * @param positions the context length
     * @return the new options
     */
    public Options withMaxPositions(int positions) {
      return new Options(maxNewTokens, sampler, repetitionPenalty, stopTokens, positions);
    }
  }

  /**
   * What one generation produced, with its timings.
   *
   * @param tokens the generated tokens, without the prompt
   * @param promptTokens tokens in the prompt
   * @param prefillNanos time to feed the prompt and pick the first token
   * @param decodeNanos time for the remaining tokens
   * @param stopReason why it ended
   */
  public record Result(int[] tokens, int promptTokens, long prefillNanos, long decodeNanos, StopReason stopReason) {

    /**
     * Copies the tokens.
     *
     * @throws NullPointerException if tokens or stopReason is null
     */
    public Result {
      tokens = tokens.clone();
      Objects.requireNonNull(stopReason, "stopReason");
    }

    @Override
    public int[] tokens() {
      return tokens.clone();
    }

    /** Prompt tokens per second of prefill time. */
    public double prefillTokensPerSecond() {
      return prefillNanos == 0 ? 0 : promptTokens * 1e9 / prefillNanos;
    }

    /** Generated tokens after the first, per second of decode time. */
    public double decodeTokensPerSecond() {
      return decodeNanos == 0 || tokens.length < 2 ? 0 : (tokens.length - 1) * 1e9 / decodeNanos;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Result r && Arrays.equals(tokens, r.tokens) && promptTokens == r.promptTokens
          && prefillNanos == r.prefillNanos && decodeNanos == r.decodeNanos && stopReason == r.stopReason;
    }

    @Override
    public int hashCode() {
      return Objects.hash(Arrays.hashCode(tokens), promptTokens, prefillNanos, decodeNanos, stopReason);
    }

    @Override
    public String toString() {
      return "Result[tokens=" + Arrays.toString(tokens) + ", promptTokens=" + promptTokens + ", stopReason=" + stopReason + "]";
    }
  }

  /**
   * Generates with a fresh cache.
   *
   * @param model the model
   * @param prompt at least one token, each in the vocabulary
   * @param options the settings
   * @param listener receives each token as it is generated; may be {@code null}
   * @return the tokens and timings
   * @throws ShapeException if the prompt is empty, has a token outside the vocabulary, or fills
   *     the context
   */
  public static Result run(DecoderModel model, int[] prompt, Options options, TokenListener listener) {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(prompt, "prompt");
    Objects.requireNonNull(options, "options");
    if (prompt.length == 0) {
      throw new ShapeException("the prompt has no tokens");
    }
    if (prompt.length >= options.maxPositions()) {
      throw new ShapeException("the prompt has " + prompt.length + " tokens; the context holds " + options.maxPositions());
    }
    int vocab = model.config().vocabSize();
    int budget = Math.min(options.maxNewTokens(), options.maxPositions() - prompt.length);
    int[] out = new int[budget];
    if (options.maxNewTokens() == 0) {
      return new Result(out, prompt.length, 0, 0, StopReason.MAX_TOKENS);
    }
    KVCache cache = model.newCache(1, prompt.length + budget, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
    boolean[] seen = new boolean[vocab];
    for (int t : prompt) {
      if (t >= 0 && t < vocab) {
        seen[t] = true;
      }
    }
    long t0 = System.nanoTime();
    float[] logits = model.forward(cache, 0, prompt, false);
    long prefill = 0;
    int n = 0;
    StopReason reason = budget < options.maxNewTokens() ? StopReason.CONTEXT_FULL : StopReason.MAX_TOKENS;
    while (n < budget) {
      if (options.repetitionPenalty() != 1f) {
        penalize(logits, seen, options.repetitionPenalty());
      }
      int t = options.sampler().sample(logits, 0, vocab);
      out[n++] = t;
      seen[t] = true;
      if (n == 1) {
        prefill = System.nanoTime() - t0;
      }
      boolean more = listener == null || listener.onToken(t);
      if (options.stopTokens().contains(t)) {
        reason = StopReason.STOP_TOKEN;
        break;
      }
      if (!more) {
        reason = StopReason.LISTENER;
        break;
      }
      if (n < budget) {
        logits = model.forward(cache, 0, new int[] {t}, false);
      }
    }
    long decode = System.nanoTime() - t0 - prefill;
    return new Result(Arrays.copyOf(out, n), prompt.length, prefill, decode, reason);
  }

  private static void penalize(float[] logits, boolean[] seen, float penalty) {
    for (int i = 0; i < seen.length; i++) {
      if (seen[i]) {
        logits[i] = logits[i] > 0 ? logits[i] / penalty : logits[i] * penalty;
      }
    }
  }
}
