/**
 * Quantization: ternary weights ({@link dev.aphelion.tritter.quant.Quantization}, absmean and
 * absmax, per row or per group) and per-token int8 activations ({@link
 * dev.aphelion.tritter.quant.Int8Activations}).
 */
package dev.aphelion.tritter.quant;
