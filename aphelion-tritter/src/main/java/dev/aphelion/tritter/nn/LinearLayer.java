package dev.aphelion.tritter.nn;

/**
 * A fully connected layer {@code y = x·Wᵀ + b} with {@code W} of shape {@code [outFeatures,
 * inFeatures]}: the one operation the decoder delegates to its weight format. {@link TernaryLayer}
 * holds packed ternary weights, {@link DenseLayer} plain f32 weights; the rest of the model is the
 * same code for both, which is what makes the dense model a fair baseline.
 *
 * <p>Implementations are immutable after construction and safe for concurrent {@code forward}
 * calls.
 */
public sealed interface LinearLayer permits TernaryLayer, DenseLayer {

  /** Input features (columns of {@code W}). */
  int inFeatures();

  /** Output features (rows of {@code W}). */
  int outFeatures();

  /**
   * Applies the layer to {@code rows} row-major input rows.
   *
   * @param x {@code rows·inFeatures} inputs
   * @param y receives {@code rows·outFeatures} outputs (overwritten)
   * @param rows number of rows (tokens), at least 1
   * @throws dev.aphelion.core.error.ShapeException if an array is too short
   */
  void forward(float[] x, float[] y, int rows);

  /**
   * Applies the layer to one input row.
   *
   * @param x {@code inFeatures} inputs
   * @return {@code outFeatures} outputs
   */
  default float[] forward(float[] x) {
    float[] y = new float[outFeatures()];
    forward(x, y, 1);
    return y;
  }

  /** Bytes held by the weights, scales and bias. */
  long memoryBytes();
}
