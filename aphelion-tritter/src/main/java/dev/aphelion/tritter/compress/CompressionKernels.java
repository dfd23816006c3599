package dev.aphelion.tritter.compress;

/**
 * The data-parallel passes of gradient compression. Implementations are chosen by {@code Vectorization.select}. {@link #addScaled} and {@link
 * #collectAbove} give identical results on every path, and so does {@link #sumOfSquares}, whose
 * summation order is specified so that a seeded compressor with clipping is deterministic on every
 * path and run.
 */
interface CompressionKernels {

  /**
   * The sum of squares of {@code a[0..n)}, non-finite if any element is NaN or infinite. Order:
   * below {@code n - n % 16}, element {@code i} goes to float lane {@code i % 16} as {@code
   * fma(a[i], a[i], lane)}; the lanes restart every 1024 elements, and after each such chunk they
   * are added in lane order to a double total; the remaining elements' squares are added in double
   * in index order.
   *
   * @param a the values
   * @param n how many
   * @return the sum of squares
   */
  double sumOfSquares(float[] a, int n);

  /**
   * {@code acc[i] = acc[i] + c * g[i]} for {@code i < n}, each as one float multiply then one float add.
   *
   * @param acc the accumulator
   * @param g the addend
   * @param c the factor
   * @param n how many
   */
  void addScaled(float[] acc, float[] g, float c, int n);

  /**
   * Collects, in index order, the indices {@code i < n} with {@code |a[i]| > threshold} into
   * {@code idx} and their values {@code a[i]} into {@code vals}, while they fit, and counts all of
   * them. Entries at positions from the returned count up to the arrays' ends may be overwritten.
   *
   * @param a the values
   * @param n how many
   * @param threshold the strict lower bound on magnitudes, at least 0
   * @param idx receives indices
   * @param vals receives the values at those indices; as long as {@code idx}
   * @return the total number of such indices (more than {@code idx.length} if it overflowed)
   */
  int collectAbove(float[] a, int n, float threshold, int[] idx, float[] vals);

  /**
   * {@link #addScaled} then {@link #collectAbove} on the updated {@code acc}, in one pass: the
   * same {@code acc}, indices, values and count as the two calls. {@code acc} is updated for all
   * {@code i < n} even when the arrays overflow.
   *
   * @param acc the accumulator
   * @param g the addend
   * @param c the factor
   * @param n how many
   * @param threshold the strict lower bound on magnitudes, at least 0
   * @param idx receives indices
   * @param vals receives the updated values at those indices; as long as {@code idx}
   * @return the total number of such indices (more than {@code idx.length} if it overflowed)
   */
  int addScaledCollectAbove(float[] acc, float[] g, float c, int n, float threshold, int[] idx, float[] vals);

  /** Slots past the member count that {@link #collectBucket} may overwrite. */
  int BUCKET_SLACK = 16;

  /**
   * The raw bits of the magnitudes {@code |a[i]|}, {@code i < n}, whose bits shifted right by
   * {@code shift} equal {@code bucket}, in index order: one radix bucket of a selection.
   *
   * @param a the values
   * @param n how many
   * @param shift the bucket's low bit
   * @param bucket the bucket
   * @param out receives the bits; it must hold the member count plus {@link #BUCKET_SLACK} slots,
   *     and slots past the count may be overwritten
   * @return the member count
   */
  int collectBucket(float[] a, int n, int shift, int bucket, int[] out);
}
