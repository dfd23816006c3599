package dev.aphelion.tritter.compress;

/**
 * How {@link GradientCompressor} encodes a gradient; carried in every message (wire format in
 * {@code docs/formats.md}, "Compressed gradient wire format").
 */
public enum GradientEncoding {
  /**
   * Sparse ternary heavy hitters: the k coordinates of largest residual magnitude, Rice-coded gaps,
   * a sign and a magnitude class each. Wire id 1.
   */
  HEAVY_HITTERS(1),
  /**
   * The VSA sketch: gradient blocks bound with seeded ±1 keys and rotations (fresh every step),
   * bundled into one hypervector of m buckets, ternarized with one scale, 2 bits per bucket; decoded
   * by unbinding. Wire id 2.
   */
  VSA_SKETCH(2),
  /**
   * A linear count sketch in the FetchSGD style, two rounds per step: r rows of c int8 buckets,
   * each coordinate added with a seeded sign to one hashed bucket per row (fresh hashes every
   * step). Tables of one step sum (weighted) to the sketch of the weighted sum, so an exchange adds
   * them before decoding ({@link GradientCompressor#combine}); every worker selects the same k
   * coordinates from the sum (median over rows, then top-k: {@link GradientCompressor#select}) and
   * sends its residual there ({@link GradientCompressor#values}), which error feedback removes from
   * the residual. Wire id 3.
   */
  COUNT_SKETCH(3);

  private final int wireId;

  GradientEncoding(int wireId) {
    this.wireId = wireId;
  }

  /** The encoding byte written at offset 5 of a message. */
  public int wireId() {
    return wireId;
  }

  /**
   * Whether messages of one step can be summed before decoding ({@link
   * GradientCompressor#combine}): true for {@link #COUNT_SKETCH}.
   *
   * @return whether the encoding is linear
   */
  public boolean isLinear() {
    return this == COUNT_SKETCH;
  }

  /**
   * The encoding of a wire id.
   *
   * @param id the byte at offset 5
   * @return the encoding, or null when unknown
   */
  static GradientEncoding ofWireId(int id) {
    for (GradientEncoding e : values()) {
      if (e.wireId == id) {
        return e;
      }
    }
    return null;
  }
}
