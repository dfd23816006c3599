/**
 * Dense f32 matrix products on the Vector API ({@link dev.aphelion.tritter.dense.DenseMatmul}): the
 * baseline ternary kernels are measured against, and the dense layers' engine.
 */
package dev.aphelion.tritter.dense;
