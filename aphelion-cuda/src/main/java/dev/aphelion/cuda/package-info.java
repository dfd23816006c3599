/**
 * The CUDA backend of Aphelion: {@link dev.aphelion.cuda.CudaBackendProvider} is found through
 * {@link java.util.ServiceLoader}, reports itself available only where the NVIDIA driver loads and
 * a device of compute capability 8.0 or newer exists, and creates a {@link
 * dev.aphelion.cuda.CudaBackend} holding the ternary kernels ({@link
 * dev.aphelion.cuda.ternary.CudaTernaryKernels}).
 */
package dev.aphelion.cuda;
