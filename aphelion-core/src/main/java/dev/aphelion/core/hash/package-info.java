/**
 * Graph fingerprints: {@link dev.aphelion.core.hash.GraphDigest} (the canonical, specified
 * SHA-256 of a graph, see {@code docs/graph-hash.md}) and {@link
 * dev.aphelion.core.hash.RustStableHash} (byte-for-byte compatible with the Rust original).
 */
package dev.aphelion.core.hash;
