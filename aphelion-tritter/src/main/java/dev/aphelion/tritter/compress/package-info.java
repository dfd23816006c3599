/**
 * Gradient compression for data-parallel training: {@link dev.aphelion.tritter.compress.GradientCompressor} with
 * error feedback, configured by {@link dev.aphelion.tritter.compress.CompressionConfig}, the three encodings of
 * {@link dev.aphelion.tritter.compress.GradientEncoding} (heavy hitters, VSA sketch, count sketch), and the wire format: {@link
 * dev.aphelion.tritter.compress.TernaryCompressedGradient} messages laid out as {@link dev.aphelion.tritter.compress.GradientWireFormat}
 * specifies (docs/formats.md).
 */
package dev.aphelion.tritter.compress;
