package dev.aphelion.tritter.compress;

/**
 * The data-parallel passes of the VSA sketch encoding ({@link GradientEncoding#VSA_SKETCH}), specified
 * in {@code docs/formats.md}. Implementations are chosen by {@code Vectorization.select}.
 * Every method gives bit-identical results on every path (the order of float operations is part of
 * the specification, so that a GPU can reproduce it too).
 *
 * <p>Key bits: bit {@code t} of a key is bit {@code t & 63} of {@code keys[t >>> 6]}; 1 means the
 * coordinate is negated when bound.
 */
interface SketchKernels {

  /** {@link #unbind} writes {@code out = v}. */
  int SET = 0;
  /** {@link #unbind} writes {@code out = out + v}. */
  int ADD = 1;
  /** {@link #unbind} writes {@code out = out - v}. */
  int SUBTRACT = 2;

  /**
   * Binds one block and bundles it: for {@code t < len}, {@code h[(t + r) % m] = h[(t + r) % m] + v}
   * with {@code v = key(t) ? -e[from + t] : e[from + t]} (one float add each).
   *
   * @param h the hypervector, m buckets
   * @param m the number of buckets
   * @param r the rotation, 0 to m-1
   * @param e the source values
   * @param from the block's first index in {@code e}
   * @param len the block length, 1 to m
   * @param keys at least {@code ceil(len / 64)} key words
   */
  void bindAdd(float[] h, int m, int r, float[] e, int from, int len, long[] keys);

  /**
   * Unbinds one block: for {@code t < len}, {@code v = key(t) ? -d[(t + r) % m] : d[(t + r) % m]},
   * then {@code out[from + t]} is set to {@code v}, or has {@code v} added or subtracted ({@code op}).
   *
   * @param d the decoded bucket values, m of them
   * @param m the number of buckets
   * @param r the rotation, 0 to m-1
   * @param keys at least {@code ceil(len / 64)} key words
   * @param out the destination
   * @param from the block's first index in {@code out}
   * @param len the block length, 1 to m
   * @param op {@link #SET}, {@link #ADD} or {@link #SUBTRACT}
   */
  void unbind(float[] d, int m, int r, long[] keys, float[] out, int from, int len, int op);

  /**
   * The residual update and {@link #bindAdd} in one pass: for {@code t < len}, {@code e[from + t] =
   * e[from + t] + c * g[from + t]} (one rounded product, one rounded sum, as {@link
   * CompressionKernels#addScaled}), then that value is bound into {@code h} as {@link #bindAdd}
   * binds it. Equals {@code addScaled} over the block followed by {@code bindAdd}, bit for bit.
   *
   * @param h the hypervector, m buckets
   * @param m the number of buckets
   * @param r the rotation, 0 to m-1
   * @param e the residual, updated in place
   * @param g the gradient
   * @param c the gradient's factor
   * @param from the block's first index in {@code e} and {@code g}
   * @param len the block length, 1 to m
   * @param keys at least {@code ceil(len / 64)} key words
   */
  void addScaledBindAdd(float[] h, int m, int r, float[] e, float[] g, float c, int from, int len, long[] keys);

  /**
   * {@link #unbind} of the bucket values {@link #expand} would decode, read straight from the
   * packed trits (no m-float buffer): for {@code t < len}, with {@code u = (t + r) % m} and {@code
   * d = +value, -value or +0.0f} for the code 01, 10 or 00 of trit u, {@code v = key(t) ? -d : d}
   * and {@code out[from + t]} is set to, or has added or subtracted, {@code v}. Equals {@code expand}
   * followed by {@code unbind}, bit for bit.
   *
   * @param in the packed trits (code 11 must have been rejected)
   * @param offset the byte of trit 0
   * @param m the number of buckets
   * @param value the decoded magnitude
   * @param r the rotation, 0 to m-1
   * @param keys at least {@code ceil(len / 64)} key words
   * @param out the destination
   * @param from the block's first index in {@code out}
   * @param len the block length, 1 to m
   * @param op {@link #SET}, {@link #ADD} or {@link #SUBTRACT}
   */
  void unbindTrits(byte[] in, int offset, int m, float value, int r, long[] keys, float[] out, int from, int len, int op);

  /**
   * The sum of the terms {@code |h[u]| > threshold ? |h[u]| : 0} for {@code u < m}, in the fixed
   * order of the specification: per chunk of 1024 buckets, 16 float lane sums ({@code u % 16} picks
   * the lane; rows of 16 added in index order), the 16 lane sums added as doubles in lane order, the
   * chunk sums added as doubles in chunk order.
   *
   * @param h the buckets
   * @param m how many
   * @param threshold terms at or below it count as 0 (negative infinity: all terms)
   * @return the sum
   */
  double laneSum(float[] h, int m, float threshold);

  /**
   * Ternarizes and packs: trit {@code u} is +1 if {@code h[u] > threshold}, -1 if {@code h[u] <
   * -threshold}, else 0, written as 2 bits (01 = +1, 10 = -1, 00 = 0) at bits {@code 2 * (u % 4)} of
   * byte {@code offset + u / 4}. The {@code ceil(m / 4)} bytes must be zero on entry.
   *
   * @param h the buckets
   * @param m how many
   * @param threshold at least 0
   * @param out the destination
   * @param offset the byte of trit 0
   * @return the number of non-zero trits
   */
  int ternarize(float[] h, int m, float threshold, byte[] out, int offset);

  /**
   * Unpacks {@code m} trits (codes as in {@link #ternarize}; code 11 must have been rejected) into
   * {@code d[u] = +value, -value or +0.0f}.
   *
   * @param in the packed trits
   * @param offset the byte of trit 0
   * @param m how many
   * @param value the decoded magnitude
   * @param d the destination, at least m values
   */
  void expand(byte[] in, int offset, int m, float value, float[] d);

  /**
   * The median over rows: {@code out[from + t]} is {@link CountSketch#median} of {@code tiles[ρ *
   * stride + t]} for {@code ρ < rows} (odd), for {@code t < len}. Exact on every path (only
   * {@code Math.min}/{@code Math.max} and copies).
   *
   * @param tiles the rows' values, row {@code ρ} at offset {@code ρ * stride}
   * @param rows odd, at least 1
   * @param stride the distance between rows, at least len
   * @param len values per row
   * @param out the destination
   * @param from the first index written
   */
  void median(float[] tiles, int rows, int stride, int len, float[] out, int from);

  /**
   * The count sketch estimate of three rows in one pass: for {@code t < len}, {@code out[from + t]}
   * is {@link CountSketch#median} of the three values {@code key_ρ(t) ? -b_ρ : b_ρ} with {@code b_ρ
   * = row_ρ[(t + r_ρ) % c]}. Equals {@link #unbind} of each row into a tile, then {@link #median},
   * bit for bit, without the tiles.
   *
   * @param row0 row 0's buckets, c of them (row1, row2 likewise)
   * @param row1 row 1's buckets
   * @param row2 row 2's buckets
   * @param c the buckets per row
   * @param r0 row 0's rotation, 0 to c-1 (r1, r2 likewise)
   * @param r1 row 1's rotation
   * @param r2 row 2's rotation
   * @param k0 row 0's key words, at least {@code ceil(len / 64)} (k1, k2 likewise)
   * @param k1 row 1's key words
   * @param k2 row 2's key words
   * @param out the destination
   * @param from the block's first index in {@code out}
   * @param len the block length, 1 to c
   */
  void median3Unbind(float[] row0, float[] row1, float[] row2, int c, int r0, int r1, int r2, long[] k0, long[] k1, long[] k2,
      float[] out, int from, int len);
}
