/**
 * Inference building blocks: {@link dev.aphelion.tritter.inference.LinearLayer} with its ternary
 * ({@link dev.aphelion.tritter.inference.TernaryLayer}) and dense ({@link
 * dev.aphelion.tritter.inference.DenseLayer}) implementations, the preallocated {@link
 * dev.aphelion.tritter.inference.KVCache}, and the small float kernels attention needs.
 */
package dev.aphelion.tritter.inference;
