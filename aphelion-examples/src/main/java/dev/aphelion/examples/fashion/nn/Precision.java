package dev.aphelion.examples.fashion.nn;

/** How a model's linear layers compute their products. */
public enum Precision {
  /** Plain single-precision weights and activations. */
  FLOAT32,
  /**
   * BitNet b1.58: weights ternarized per output row by absmean ({@code {-1, 0, +1} × scale}),
   * activations quantized per row (token) to int8 by absmax, both trained through a
   * straight-through estimator over latent float weights.
   */
  TERNARY
}
