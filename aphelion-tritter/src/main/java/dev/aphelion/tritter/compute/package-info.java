/**
 * The typed operations a backend computes a decoder with ({@link dev.aphelion.tritter.compute.ComputeOps}):
 * weights uploaded once into backend-owned handles, activations, token indices and KV caches that
 * live on the backend, and the operations between them. The CPU engine implements it in {@code
 * model} ({@code CpuComputeOps}), aphelion-cuda on the GPU; a backend hands it out through {@link
 * dev.aphelion.core.backend.Backend#operations(Class)}.
 */
package dev.aphelion.tritter.compute;
