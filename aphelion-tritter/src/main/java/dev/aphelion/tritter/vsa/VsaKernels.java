package dev.aphelion.tritter.vsa;

/**
 * Word-level kernels over bit-sliced trit planes (bit {@code d % 64} of word {@code d / 64}; a set
 * bit in the plus plane means +1, in the minus plane -1, neither means 0, never both). Implementations are chosen by {@code Vectorization.select}; every implementation returns bit-identical results.
 * Callers guarantee array lengths of at least {@code words}; inputs must have no bits set beyond
 * the dimension.
 */
interface VsaKernels {

  /**
   * Balanced bind {@code c = (a - b) mod 3} per dimension, written to {@code outP/outM}.
   *
   * @param aP plus plane of a
   * @param aM minus plane of a
   * @param bP plus plane of b
   * @param bM minus plane of b
   * @param outP plus plane of the result
   * @param outM minus plane of the result
   * @param words the number of 64-bit words
   */
  void bind(long[] aP, long[] aM, long[] bP, long[] bM, long[] outP, long[] outM, int words);

  /**
   * Balanced unbind {@code a = (c + b) mod 3} per dimension, the exact inverse of {@link #bind}.
   *
   * @param cP plus plane of the bound vector
   * @param cM minus plane of the bound vector
   * @param bP plus plane of the key
   * @param bM minus plane of the key
   * @param outP plus plane of the result
   * @param outM minus plane of the result
   * @param words the number of 64-bit words
   */
  void unbind(long[] cP, long[] cM, long[] bP, long[] bM, long[] outP, long[] outM, int words);

  /**
   * The integer dot product {@code Σ a_i b_i}.
   *
   * @param aP plus plane of a
   * @param aM minus plane of a
   * @param bP plus plane of b
   * @param bM minus plane of b
   * @param words the number of 64-bit words
   * @return the dot product
   */
  long dot(long[] aP, long[] aM, long[] bP, long[] bM, int words);

  /**
   * The number of dimensions whose trits differ.
   *
   * @param aP plus plane of a
   * @param aM minus plane of a
   * @param bP plus plane of b
   * @param bM minus plane of b
   * @param words the number of 64-bit words
   * @return the Hamming distance
   */
  long hamming(long[] aP, long[] aM, long[] bP, long[] bM, int words);

  /**
   * The number of non-zero trits.
   *
   * @param p plus plane
   * @param m minus plane
   * @param words the number of 64-bit words
   * @return the count
   */
  long nonZeroCount(long[] p, long[] m, int words);

  /**
   * Per-dimension majority of {@code k} vectors: the sign of the sum of their trits, 0 on ties.
   *
   * @param plus the plus planes of the {@code k} inputs
   * @param minus the minus planes of the {@code k} inputs
   * @param outP plus plane of the result
   * @param outM minus plane of the result
   * @param words the number of 64-bit words
   */
  void bundle(long[][] plus, long[][] minus, long[] outP, long[] outM, int words);
}
