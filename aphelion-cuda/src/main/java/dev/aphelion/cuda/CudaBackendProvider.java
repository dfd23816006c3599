package dev.aphelion.cuda;

import dev.aphelion.core.backend.Availability;
import dev.aphelion.core.backend.Backend;
import dev.aphelion.core.backend.BackendProvider;
import dev.aphelion.core.error.BackendException;
import dev.aphelion.cuda.driver.CudaDriver;

/**
 * Provides {@link CudaBackend} (registered in {@code META-INF/services}). Cheap to construct:
 * native code is touched only by {@link #availability()} (once per process, never throwing) and
 * {@link #create()}. Unavailable, with the reason, where {@code libcuda.so.1} is missing, no device
 * exists, the driver is older than CUDA 13.0 or the device older than compute capability 8.0;
 * then a CPU backend stays the default.
 */
public final class CudaBackendProvider implements BackendProvider {

  /** The backend's name. */
  public static final String NAME = "cuda";

  /** Creates the provider (the {@link java.util.ServiceLoader} entry point). */
  public CudaBackendProvider() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public int priority() {
    return PRIORITY_GPU;
  }

  @Override
  public Availability availability() {
    try {
      CudaDriver.Probe p = CudaDriver.probe();
      return p.available() ? Availability.available(p.reason()) : Availability.unavailable(p.reason());
    } catch (RuntimeException | LinkageError e) {
      return Availability.unavailable("probing CUDA", e);
    }
  }

  /**
   * Opens device 0 and loads the kernels.
   *
   * @return a new backend; the caller closes it
   * @throws BackendException if CUDA is unavailable or the kernels cannot be loaded
   */
  @Override
  public Backend create() {
    Availability a = availability();
    if (!a.available()) {
      throw new BackendException("the cuda backend is unavailable: " + a.reason());
    }
    return CudaBackend.open(0);
  }
}
