package dev.aphelion.cuda;

import dev.aphelion.core.backend.Availability;
import dev.aphelion.core.backend.Backend;
import dev.aphelion.core.backend.DeviceCapabilities;
import dev.aphelion.core.backend.DeviceKind;
import dev.aphelion.cuda.compute.CudaComputeOps;
import dev.aphelion.cuda.driver.CudaDeviceInfo;
import dev.aphelion.cuda.driver.CudaDriver;
import dev.aphelion.cuda.ternary.CudaTernaryKernels;
import dev.aphelion.tritter.compute.ComputeOps;
import java.util.Objects;
import java.util.Optional;

/**
 * The CUDA backend: one device's context with the ternary kernels loaded. Closing it frees every
 * device buffer created through it and releases the context.
 */
public final class CudaBackend implements Backend {

  private final CudaTernaryKernels kernels;
  private final DeviceCapabilities capabilities;
  private volatile boolean closed;

  private CudaBackend(CudaTernaryKernels kernels) {
    this.kernels = kernels;
    CudaDeviceInfo d = kernels.context().device();
    CudaDriver.Probe p = CudaDriver.probe();
    this.capabilities =
        DeviceCapabilities.builder(d.name(), DeviceKind.GPU)
            .computeUnits(d.multiprocessors())
            .maxMemoryBytes(d.totalMemoryBytes())
            .f16(true)
            .bf16(true)
            .tf32(true)
            .int8(true)
            .attribute("computeCapability", d.computeCapabilityString())
            .attribute("driverVersion", p.driverVersion())
            .attribute("l2CacheBytes", d.l2CacheBytes())
            .attribute("peakMemoryBandwidthGBps", Math.round(d.peakMemoryBandwidth() / 1e9))
            .attribute("ordinal", d.ordinal())
            .build();
  }

  /**
   * Opens a device and loads the kernels.
   *
   * @param ordinal the device ordinal
   * @return the backend
   * @throws dev.aphelion.core.error.BackendException if CUDA is unavailable or loading fails
   */
  public static CudaBackend open(int ordinal) {
    return new CudaBackend(CudaTernaryKernels.open(ordinal));
  }

  @Override
  public String name() {
    return CudaBackendProvider.NAME;
  }

  @Override
  public DeviceCapabilities capabilities() {
    return capabilities;
  }

  @Override
  public Availability availability() {
    return closed
        ? Availability.unavailable("the backend is closed")
        : Availability.available(capabilities.deviceName());
  }

  /**
   * The ternary kernels.
   *
   * @return the kernels (owned by this backend)
   * @throws IllegalStateException if the backend is closed
   */
  public CudaTernaryKernels kernels() {
    if (closed) {
      throw new IllegalStateException("the cuda backend is closed");
    }
    return kernels;
  }

  /**
   * Hands out {@link ComputeOps} as a new {@link CudaComputeOps} on this device (close it, or close
   * the backend, to free its device memory); other types are not implemented here.
   *
   * @throws IllegalStateException if the backend is closed
   */
  @Override
  public <T> Optional<T> operations(Class<T> type) {
    Objects.requireNonNull(type, "type");
    CudaTernaryKernels k = kernels();
    return type == ComputeOps.class ? Optional.of(type.cast(new CudaComputeOps(k, NAME_FOR_OPS))) : Optional.empty();
  }

  private static final String NAME_FOR_OPS = CudaBackendProvider.NAME;

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    kernels.close();
  }

  @Override
  public String toString() {
    return "CudaBackend[" + capabilities.summary() + "]";
  }
}
