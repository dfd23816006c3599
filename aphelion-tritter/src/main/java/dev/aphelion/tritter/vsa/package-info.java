/**
 * Vector-symbolic architecture on bit-sliced trit vectors: {@link dev.aphelion.tritter.vsa.TritVector}
 * and {@link dev.aphelion.tritter.vsa.VsaOps} (bind {@code (a-b) mod 3} with exact inverse {@code
 * (c+b) mod 3}, majority bundle, cyclic permute, dot, cosine, Hamming), seeded by {@link
 * dev.aphelion.tritter.random.SplitMix64}.
 */
package dev.aphelion.tritter.vsa;
