package dev.aphelion.tritter.model;

import dev.aphelion.core.error.ConfigException;
import java.util.Objects;

/**
 * The shape of a decoder-only transformer in the BitNet b1.58 / LLaMA style: pre-RMSNorm blocks of
 * grouped-query self-attention with rotary positions and a gated feed-forward network.
 *
 * @param vocabSize tokens in the vocabulary
 * @param hiddenSize model width
 * @param numLayers transformer blocks
 * @param numHeads query heads; must divide {@code hiddenSize}
 * @param numKvHeads key/value heads; must divide {@code numHeads} (equal: multi-head attention, 1:
 *     multi-query)
 * @param ffnSize inner width of the feed-forward network
 * @param activation the gated FFN activation
 * @param rmsNormEps epsilon inside RMSNorm
 * @param ropeTheta rotary base (10000 in LLaMA, 500000 in BitNet b1.58 2B4T)
 * @param tiedEmbeddings whether the output head reuses the token embedding
 */
public record DecoderConfig(
    int vocabSize,
    int hiddenSize,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int ffnSize,
    FfnActivation activation,
    float rmsNormEps,
    float ropeTheta,
    boolean tiedEmbeddings) {

  /**
   * Validates the configuration.
   *
   * @throws ConfigException naming the offending field
   */
  public DecoderConfig {
    Objects.requireNonNull(activation, "activation");
    positive("vocabSize", vocabSize);
    positive("hiddenSize", hiddenSize);
    positive("numLayers", numLayers);
    positive("numHeads", numHeads);
    positive("numKvHeads", numKvHeads);
    positive("ffnSize", ffnSize);
    if (hiddenSize % numHeads != 0) {
      throw new ConfigException("hiddenSize " + hiddenSize + " is not divisible by numHeads " + numHeads);
    }
    if (numHeads % numKvHeads != 0) {
      throw new ConfigException("numHeads " + numHeads + " is not divisible by numKvHeads " + numKvHeads);
    }
    if ((hiddenSize / numHeads) % 2 != 0) {
      throw new ConfigException("head dimension " + hiddenSize / numHeads + " must be even for rotary embeddings");
    }
    if (!(rmsNormEps > 0) || !Float.isFinite(rmsNormEps)) {
      throw new ConfigException("rmsNormEps must be positive and finite, got " + rmsNormEps);
    }
    if (!(ropeTheta > 1) || !Float.isFinite(ropeTheta)) {
      throw new ConfigException("ropeTheta must be > 1 and finite, got " + ropeTheta);
    }
  }

  private static void positive(String name, int v) {
    if (v <= 0) {
      throw new ConfigException(name + " must be positive, got " + v);
    }
  }

  /** Elements per attention head: {@code hiddenSize / numHeads}. */
  public int headDim() {
    return hiddenSize / numHeads;
  }

  /** Width of the key (and value) projection: {@code numKvHeads · headDim}. */
  public int kvSize() {
    return numKvHeads * headDim();
  }

  /** Query heads that share one KV head. */
  public int groupSize() {
    return numHeads / numKvHeads;
  }

  /** Weights in the linear projections of all blocks (the ternary part in BitNet). */
  public long projectionParameters() {
    long h = hiddenSize;
    long perLayer = h * h * 2 + h * kvSize() * 2 + 3L * h * ffnSize;
    return perLayer * numLayers;
  }

  /** All parameters: projections, norms, embedding and (untied) head. */
  public long parameterCount() {
    long emb = (long) vocabSize * hiddenSize;
    return projectionParameters() + (long) numLayers * 2 * hiddenSize + hiddenSize + emb * (tiedEmbeddings ? 1 : 2);
  }

  /** Starts a builder with LLaMA-like defaults (SwiGLU, eps 1e-5, theta 10000, tied, MHA). */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder pre-filled with this configuration. */
  public Builder toBuilder() {
    return new Builder().vocabSize(vocabSize).hiddenSize(hiddenSize).numLayers(numLayers).numHeads(numHeads)
        .numKvHeads(numKvHeads).ffnSize(ffnSize).activation(activation).rmsNormEps(rmsNormEps)
        .ropeTheta(ropeTheta).tiedEmbeddings(tiedEmbeddings);
  }

  /** Builder for {@link DecoderConfig}; vocabSize, hiddenSize, numLayers, numHeads, ffnSize are required. */
  public static final class Builder {
    private int vocabSize;
    private int hiddenSize;
    private int numLayers;
    private int numHeads;
    private int numKvHeads = -1;
    private int ffnSize;
    private FfnActivation activation = FfnActivation.SWIGLU;
    private float rmsNormEps = 1e-5f;
    private float ropeTheta = 10000f;
    private boolean tiedEmbeddings = true;

    private Builder() {}

    /** Vocabulary size. */
    public Builder vocabSize(int v) {
      vocabSize = v;
      return this;
    }

    /** Model width. */
    public Builder hiddenSize(int v) {
      hiddenSize = v;
      return this;
    }

    /** Number of blocks. */
    public Builder numLayers(int v) {
      numLayers = v;
      return this;
    }

    /** Query heads. */
    public Builder numHeads(int v) {
      numHeads = v;
      return this;
    }

    /** KV heads; default equal to the query heads. */
    public Builder numKvHeads(int v) {
      numKvHeads = v;
      return this;
    }

    /** FFN inner width. */
    public Builder ffnSize(int v) {
      ffnSize = v;
      return this;
    }

    /** FFN activation; default SwiGLU. */
    public Builder activation(FfnActivation v) {
      activation = v;
      return this;
    }

    /** RMSNorm epsilon; default 1e-5. */
    public Builder rmsNormEps(float v) {
      rmsNormEps = v;
      return this;
    }

    /** Rotary base; default 10000. */
    public Builder ropeTheta(float v) {
      ropeTheta = v;
      return this;
    }

    /** Whether the head reuses the embedding; default true. */
    public Builder tiedEmbeddings(boolean v) {
      tiedEmbeddings = v;
      return this;
    }

    /**
     * Builds and validates the configuration.
     *
     * @throws ConfigException naming the offending field
     */
    public DecoderConfig build() {
      return new DecoderConfig(vocabSize, hiddenSize, numLayers, numHeads, numKvHeads == -1 ? numHeads : numKvHeads,
          ffnSize, activation, rmsNormEps, ropeTheta, tiedEmbeddings);
    }
  }
}
