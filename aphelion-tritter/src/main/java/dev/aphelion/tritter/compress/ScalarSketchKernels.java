package dev.aphelion.tritter.compress;

/** The scalar reference implementation of {@link SketchKernels}: the specification as code. */
final class ScalarSketchKernels implements SketchKernels {
  static final int CHUNK = GradientWireFormat.SKETCH_SUM_CHUNK;
  static final int LANES = 16;

  /** Creates the kernels. */
  ScalarSketchKernels() {}

  static boolean key(long[] keys, int t) {
    return ((keys[t >>> 6] >>> (t & 63)) & 1L) != 0;
  }

  @Override
  public void bindAdd(float[] h, int m, int r, float[] e, int from, int len, long[] keys) {
    for (int t = 0; t < len; t++) {
      int u = t + r < m ? t + r : t + r - m;
      float v = e[from + t];
      h[u] = h[u] + (key(keys, t) ? -v : v);
    }
  }

  @Override
  public void addScaledBindAdd(float[] h, int m, int r, float[] e, float[] g, float c, int from, int len, long[] keys) {
    ScalarCompressionKernels.addScaled(e, g, c, from, from + len);
    bindAdd(h, m, r, e, from, len, keys);
  }

  @Override
  public void unbindTrits(byte[] in, int offset, int m, float value, int r, long[] keys, float[] out, int from, int len, int op) {
    for (int t = 0; t < len; t++) {
      int u = t + r < m ? t + r : t + r - m;
      int code = (in[offset + (u >>> 2)] >>> (2 * (u & 3))) & 3;
      float d = code == 1 ? value : code == 2 ? -value : 0f;
      float v = key(keys, t) ? -d : d;
      int i = from + t;
      switch (op) {
        case SET -> out[i] = v;
        case ADD -> out[i] = out[i] + v;
        default -> out[i] = out[i] - v;
      }
    }
  }

  @Override
  public void unbind(float[] d, int m, int r, long[] keys, float[] out, int from, int len, int op) {
    unbindRange(d, m, r, keys, out, from, 0, len, op);
  }

  static void unbindRange(float[] d, int m, int r, long[] keys, float[] out, int from, int t0, int t1, int op) {
    for (int t = t0; t < t1; t++) {
      int u = t + r < m ? t + r : t + r - m;
      float v = key(keys, t) ? -d[u] : d[u];
      int i = from + t;
      switch (op) {
        case SET -> out[i] = v;
        case ADD -> out[i] = out[i] + v;
        default -> out[i] = out[i] - v;
      }
    }
  }

  @Override
  public double laneSum(float[] h, int m, float threshold) {
    double total = 0;
    float[] lanes = new float[LANES];
    for (int c = 0; c < m; c += CHUNK) {
      java.util.Arrays.fill(lanes, 0f);
      int end = Math.min(m, c + CHUNK);
      for (int u = c; u < end; u++) {
        float a = Math.abs(h[u]);
        int l = u & (LANES - 1);
        lanes[l] = lanes[l] + (a > threshold ? a : 0f);
      }
      double chunk = 0;
      for (int l = 0; l < LANES; l++) {
        chunk += lanes[l];
      }
      total += chunk;
    }
    return total;
  }

  @Override
  public int ternarize(float[] h, int m, float threshold, byte[] out, int offset) {
    return ternarizeRange(h, 0, m, threshold, out, offset);
  }

  static int ternarizeRange(float[] h, int u0, int u1, float threshold, byte[] out, int offset) {
    int nnz = 0;
    for (int u = u0; u < u1; u++) {
      float v = h[u];
      int code = v > threshold ? 1 : v < -threshold ? 2 : 0;
      if (code != 0) {
        nnz++;
        out[offset + (u >>> 2)] |= (byte) (code << (2 * (u & 3)));
      }
    }
    return nnz;
  }

  @Override
  public void expand(byte[] in, int offset, int m, float value, float[] d) {
    expandRange(in, offset, 0, m, value, d);
  }

  static void expandRange(byte[] in, int offset, int u0, int u1, float value, float[] d) {
    for (int u = u0; u < u1; u++) {
      int code = (in[offset + (u >>> 2)] >>> (2 * (u & 3))) & 3;
      d[u] = code == 1 ? value : code == 2 ? -value : 0f;
    }
  }

  @Override
  public void median3Unbind(float[] row0, float[] row1, float[] row2, int c, int r0, int r1, int r2, long[] k0, long[] k1,
      long[] k2, float[] out, int from, int len) {
    float[] v = new float[3];
    for (int t = 0; t < len; t++) {
      v[0] = signed(row0, c, r0, k0, t);
      v[1] = signed(row1, c, r1, k1, t);
      v[2] = signed(row2, c, r2, k2, t);
      out[from + t] = CountSketch.median(v, 3);
    }
  }

  private static float signed(float[] row, int c, int r, long[] keys, int t) {
    float b = row[t + r < c ? t + r : t + r - c];
    return key(keys, t) ? -b : b;
  }

  @Override
  public void median(float[] tiles, int rows, int stride, int len, float[] out, int from) {
    medianRange(tiles, rows, stride, 0, len, out, from);
  }

  static void medianRange(float[] tiles, int rows, int stride, int t0, int t1, float[] out, int from) {
    float[] v = new float[rows];
    for (int t = t0; t < t1; t++) {
      for (int row = 0; row < rows; row++) {
        v[row] = tiles[row * stride + t];
      }
      out[from + t] = CountSketch.median(v, rows);
    }
  }
}
