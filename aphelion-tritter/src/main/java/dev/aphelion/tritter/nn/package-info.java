/**
 * Neural-network building blocks: {@link dev.aphelion.tritter.nn.LinearLayer} with its ternary ({@link
 * dev.aphelion.tritter.nn.TernaryLayer}) and dense ({@link dev.aphelion.tritter.nn.DenseLayer}) implementations, {@link
 * dev.aphelion.tritter.nn.RmsNorm}, {@link dev.aphelion.tritter.nn.RotaryEmbedding}, {@link dev.aphelion.tritter.nn.EmbeddingTable}, and the small
 * float kernels ({@link dev.aphelion.tritter.nn.FloatKernels}) that attention and normalization need.
 */
package dev.aphelion.tritter.nn;
