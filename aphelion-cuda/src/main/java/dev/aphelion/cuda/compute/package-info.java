/**
 * The cuda backend's {@link dev.aphelion.tritter.compute.ComputeOps}: {@link
 * dev.aphelion.cuda.compute.CudaComputeOps}, the decoder's operations on one device, with
 * weights, activations and KV caches in device memory and recorded work replayed as CUDA graphs.
 */
package dev.aphelion.cuda.compute;
