/**
 * Training support on the GPU: {@link dev.aphelion.cuda.training.CudaGradientCompressor}, the VSA
 * sketch gradient encoding with the error-feedback residual on the device, byte for byte equal to
 * aphelion-tritter's CPU compressor.
 */
package dev.aphelion.cuda.training;
