/**
 * Deterministic random numbers whose output is fixed by definition on every JVM and platform
 * ({@link dev.aphelion.tritter.random.SplitMix64}), shared by VSA vectors, gradient-sketch keys and the GPU kernels.
 */
package dev.aphelion.tritter.random;
