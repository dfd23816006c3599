/**
 * Packed ternary (BitNet b1.58) weights and their matrix products: {@link
 * dev.aphelion.tritter.ternary.PackedTernary} (2 bits per weight, row or group scales, tritter-accel
 * byte format) and {@link dev.aphelion.tritter.ternary.TernaryMatmul} (GEMV/GEMM with float or int8
 * activations, scalar reference and Vector API kernels).
 */
package dev.aphelion.tritter.ternary;
