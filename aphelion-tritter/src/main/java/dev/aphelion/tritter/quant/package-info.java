/**
 * Activation quantization: per-token absmax int8 activations ({@link dev.aphelion.tritter.quant.Int8Activations}),
 * as BitNet b1.58's W1.58A8 products consume them.
 */
package dev.aphelion.tritter.quant;
