/**
 * Training support on the GPU: {@link dev.aphelion.cuda.training.CudaGradientCompressor}, the VSA
 * sketch gradient encoding, and {@link dev.aphelion.cuda.training.CudaCountSketch}, both rounds of
 * the count sketch encoding, each with the error-feedback residual on the device and byte for byte
 * equal to aphelion-tritter's CPU compressor.
 */
package dev.aphelion.cuda.training;
