/**
 * Thin, {@link java.lang.AutoCloseable} wrappers over the CUDA driver API as JCuda exposes it:
 * {@link dev.aphelion.cuda.driver.CudaContext} (owning everything created through it), device
 * buffers, modules, kernels, streams and events. JCuda's own handles are never closeable and its
 * global exception switch is left alone: every call's result code is checked here and turned into
 * a {@link dev.aphelion.core.error.BackendException}.
 *
 * <p>Only {@code libcuda.so.1} (the driver) is needed; {@link dev.aphelion.cuda.driver.CudaDriver}
 * probes for it without throwing.
 */
package dev.aphelion.cuda.driver;
