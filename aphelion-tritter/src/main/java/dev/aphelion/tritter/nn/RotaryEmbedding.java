package dev.aphelion.tritter.nn;

/**
 * Rotary position embedding in the "rotate half" convention of Hugging Face LLaMA checkpoints:
 * element {@code i < d/2} of a head is paired with element {@code i + d/2} and the pair is rotated
 * by {@code position · theta^(-2i/d)}.
 *
 * <p>Angles for the first {@code tablePositions} positions are precomputed (in double precision,
 * rounded once); later positions are computed on the fly.
 */
public final class RotaryEmbedding {
  private final int headDim;
  private final int half;
  private final double[] invFreq;
  private final int tablePositions;
  private final float[] cos;
  private final float[] sin;

  /**
   * Creates the embedding.
   *
   * @param headDim elements per head; even
   * @param theta the base
   * @param tablePositions positions to precompute
   */
  public RotaryEmbedding(int headDim, double theta, int tablePositions) {
    if (headDim <= 0 || headDim % 2 != 0) {
      throw new IllegalArgumentException("headDim must be positive and even, got " + headDim);
    }
    this.headDim = headDim;
    this.half = headDim / 2;
    this.invFreq = new double[half];
    for (int i = 0; i < half; i++) {
      invFreq[i] = Math.pow(theta, -2.0 * i / headDim);
    }
    this.tablePositions = Math.max(0, tablePositions);
    this.cos = new float[this.tablePositions * half];
    this.sin = new float[this.tablePositions * half];
    for (int p = 0; p < this.tablePositions; p++) {
      for (int i = 0; i < half; i++) {
        double a = p * invFreq[i];
        cos[p * half + i] = (float) Math.cos(a);
        sin[p * half + i] = (float) Math.sin(a);
      }
    }
  }

  /** Elements per head. */
  public int headDim() {
    return headDim;
  }

  /**
   * Rotates {@code heads} consecutive head vectors in place.
   *
   * @param x the vectors
   * @param off offset of the first head
   * @param heads number of heads
   * @param position the token position
   */
  public void apply(float[] x, int off, int heads, int position) {
    if (position < 0) {
      throw new IllegalArgumentException("position must be >= 0, got " + position);
    }
    for (int i = 0; i < half; i++) {
      float c;
      float s;
      if (position < tablePositions) {
        c = cos[position * half + i];
        s = sin[position * half + i];
      } else {
        double a = position * invFreq[i];
        c = (float) Math.cos(a);
        s = (float) Math.sin(a);
      }
      for (int h = 0; h < heads; h++) {
        int b = off + h * headDim;
        float x1 = x[b + i];
        float x2 = x[b + i + half];
        x[b + i] = x1 * c - x2 * s;
        x[b + i + half] = x2 * c + x1 * s;
      }
    }
  }
}
