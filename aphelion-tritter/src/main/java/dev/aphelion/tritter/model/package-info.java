/**
 * A decoder-only transformer in the BitNet b1.58 style ({@link dev.aphelion.tritter.model.DecoderModel},
 * configured by {@link dev.aphelion.tritter.model.DecoderConfig}): RMSNorm, rotary positions,
 * grouped-query attention over a {@link dev.aphelion.tritter.model.KVCache}, gated FFN, sampling and
 * safetensors checkpoints.
 */
package dev.aphelion.tritter.model;
