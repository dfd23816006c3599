package dev.aphelion.tritter.model;

/** How a {@link DecoderModel} stores and applies its weights. */
public enum Precision {
  /**
   * BitNet b1.58: every projection (Q, K, V, O, gate, up, down) holds absmean-quantized ternary
   * weights (2 bits each, one f32 scale per row) and quantizes its input to int8 per token; the
   * token embedding and the output head hold int8 weights with one f32 scale per row.
   */
  TERNARY,
  /** Everything in f32: the baseline twin, same code path with dense layers. */
  DENSE_F32
}
