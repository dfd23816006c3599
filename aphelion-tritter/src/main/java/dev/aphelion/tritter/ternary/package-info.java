/**
 * Ternary (BitNet b1.58) weights: quantization of float weights ({@link
 * dev.aphelion.tritter.ternary.TernaryQuantization}, absmean and absmax, per row or per group, into {@link
 * dev.aphelion.tritter.ternary.TernaryQuantized}), the packed form ({@link dev.aphelion.tritter.ternary.PackedTernary}, 2 bits per
 * weight, row or group scales, tritter-accel byte format) and its matrix products ({@link
 * dev.aphelion.tritter.ternary.TernaryMatmul}: GEMV/GEMM with float or int8 activations, scalar reference and Vector
 * API kernels).
 */
package dev.aphelion.tritter.ternary;
