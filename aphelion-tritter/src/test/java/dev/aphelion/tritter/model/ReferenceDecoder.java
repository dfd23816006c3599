package dev.aphelion.tritter.model;


/**
 * A plain, cache-free recomputation of the decoder used as the test oracle: every prefix is run
 * from scratch with explicit causal attention in double precision. It shares only the layers
 * (projections, norms, embedding) with the model under test, not the attention or cache code.
 */
final class ReferenceDecoder {
  private ReferenceDecoder() {}

  static float[] logits(DecoderModel m, int[] tokens) {
    return logits(m, tokens, Integer.MAX_VALUE);
  }

  /** Logits of the last token; attention sees at most the last {@code window} tokens. */
  static float[] logits(DecoderModel m, int[] tokens, int window) {
    DecoderConfig c = m.config();
    int n = tokens.length;
    int hs = c.hiddenSize();
    int kvs = c.kvSize();
    int hd = c.headDim();
    float[][] x = new float[n][hs];
    for (int t = 0; t < n; t++) {
      m.embedding().lookup(tokens[t], x[t], 0);
    }
    for (int l = 0; l < c.numLayers(); l++) {
      DecoderModel.Block b = m.block(l);
      float[][] q = new float[n][];
      float[][] k = new float[n][];
      float[][] v = new float[n][];
      for (int t = 0; t < n; t++) {
        float[] h = new float[hs];
        b.attnNorm().apply(x[t], h, 1);
        q[t] = b.q().forward(h);
        k[t] = b.k().forward(h);
        v[t] = b.v().forward(h);
        m.rope().apply(q[t], 0, c.numHeads(), t);
        m.rope().apply(k[t], 0, c.numKvHeads(), t);
      }
      for (int t = 0; t < n; t++) {
        float[] att = new float[hs];
        int first = Math.max(0, t - window + 1);
        for (int h = 0; h < c.numHeads(); h++) {
          int kh = h / c.groupSize();
          double[] s = new double[t + 1];
          double max = Double.NEGATIVE_INFINITY;
          for (int u = first; u <= t; u++) {
            double d = 0;
            for (int i = 0; i < hd; i++) {
              d += (double) q[t][h * hd + i] * k[u][kh * hd + i];
            }
            s[u] = d / Math.sqrt(hd);
            max = Math.max(max, s[u]);
          }
          double sum = 0;
          for (int u = first; u <= t; u++) {
            s[u] = Math.exp(s[u] - max);
            sum += s[u];
          }
          for (int i = 0; i < hd; i++) {
            double acc = 0;
            for (int u = first; u <= t; u++) {
              acc += s[u] / sum * v[u][kh * hd + i];
            }
            att[h * hd + i] = (float) acc;
          }
        }
        if (b.attnSubNorm() != null) {
          b.attnSubNorm().apply(att, att, 1);
        }
        add(x[t], b.o().forward(att));
      }
      for (int t = 0; t < n; t++) {
        float[] h = new float[hs];
        b.ffnNorm().apply(x[t], h, 1);
        float[] g = b.gate().forward(h);
        float[] u = b.up().forward(h);
        float[] a = new float[g.length];
        for (int i = 0; i < g.length; i++) {
          double gi = g[i];
          double act = c.activation() == FfnActivation.SQUARED_RELU ? Math.max(gi, 0) * Math.max(gi, 0) : gi / (1 + Math.exp(-gi));
          a[i] = (float) (act * u[i]);
        }
        if (b.ffnSubNorm() != null) {
          b.ffnSubNorm().apply(a, a, 1);
        }
        add(x[t], b.down().forward(a));
      }
    }
    float[] last = new float[hs];
    m.finalNorm().apply(x[n - 1], last, 1);
    float[] out = new float[c.vocabSize()];
    m.head().logits(last, out, 1);
    return out;
  }

  private static void add(float[] x, float[] y) {
    for (int i = 0; i < x.length; i++) {
      x[i] += y[i];
    }
  }

}
