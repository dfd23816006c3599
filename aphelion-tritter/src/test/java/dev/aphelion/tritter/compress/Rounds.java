package dev.aphelion.tritter.compress;

/** One worker's step of any encoding, with the count sketch's round 2 run on its own table. */
final class Rounds {
  private Rounds() {}

  /** Compresses and, for a linear encoding, runs round 2 alone; returns what was applied. */
  static float[] roundTrip(GradientCompressor c, float[] g) {
    TernaryCompressedGradient t = c.compress(g);
    if (!t.encoding().isLinear()) {
      return c.decompress(t);
    }
    float[] out = new float[c.dimension()];
    if (!c.config().errorFeedback()) {
      return c.decompress(t);
    }
    int[] chosen = c.select(t);
    c.scatter(c.values(t, chosen), chosen, out);
    return out;
  }

  /** Compresses and, for a linear encoding, runs round 2 alone; returns the table message. */
  static TernaryCompressedGradient compress(GradientCompressor c, float[] g) {
    TernaryCompressedGradient t = c.compress(g);
    if (t.encoding().isLinear() && c.config().errorFeedback()) {
      c.values(t, c.select(t));
    }
    return t;
  }
}
