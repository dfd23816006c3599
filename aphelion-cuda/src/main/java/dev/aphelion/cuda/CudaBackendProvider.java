package dev.aphelion.cuda;

import dev.aphelion.core.backend.Availability;
import dev.aphelion.core.backend.Backend;
import dev.aphelion.core.backend.BackendProvider;
import dev.aphelion.core.backend.BackendRegistry;
import dev.aphelion.core.error.BackendException;
import dev.aphelion.cuda.driver.CudaDriver;

/**
 * Provides {@link CudaBackend} (registered in {@code META-INF/services}). Cheap to construct, and
 * listing backends loads no native code: until the CUDA backend is asked for, {@link
 * #availability()} only looks for the driver's {@code libcuda.so.1} on disk. It probes the driver
 * (loading JCuda's JNI library, from a private directory) once the backend is asked for: by
 * {@link #create()}, by {@code -Daphelion.backend=cuda} or {@code APHELION_BACKEND=cuda}, or after
 * anything else in the process probed it ({@link CudaDriver#probe()}). Unavailable, with the
 * reason, where {@code libcuda.so.1} is missing, no device exists, the driver is older than CUDA
 * 13.0 or the device older than compute capability 8.0; then a CPU backend stays the default. On
 * a machine whose driver is installed but whose device turns out unusable, opening the default
 * backend reports that reason; {@code -Daphelion.cuda.disable=true} or naming another backend
 * avoids it.
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
      if (Boolean.getBoolean(CudaDriver.DISABLE_PROPERTY) || CudaDriver.probed() || requested()) {
        return probe();
      }
      return CudaDriver.driverPresent()
          .map(lib -> Availability.available("NVIDIA driver " + lib + " found; the device is probed, and JCuda's native "
              + "library loaded, when the cuda backend is opened"))
          .orElseGet(() -> Availability.unavailable("libcuda.so.1 not found: install the NVIDIA driver (looked in "
              + "LD_LIBRARY_PATH and the system library directories; no native code was loaded)"));
    } catch (RuntimeException | LinkageError e) {
      return Availability.unavailable("probing CUDA", e);
    }
  }

  private static Availability probe() {
    CudaDriver.Probe p = CudaDriver.probe();
    return p.available() ? Availability.available(p.reason()) : Availability.unavailable(p.reason());
  }

  /** Whether the user named this backend, which is asking for it (and so for its native code). */
  private static boolean requested() {
    String p = System.getProperty(BackendRegistry.PROPERTY);
    String e = System.getenv(BackendRegistry.ENV);
    return NAME.equalsIgnoreCase(p == null ? "" : p.trim()) || NAME.equalsIgnoreCase(e == null ? "" : e.trim());
  }

  /**
   * Opens device 0 and loads the kernels.
   *
   * @return a new backend; the caller closes it
   * @throws BackendException if CUDA is unavailable or the kernels cannot be loaded
   */
  @Override
  public Backend create() {
    Availability a = probe();
    if (!a.available()) {
      throw new BackendException("the cuda backend is unavailable: " + a.reason());
    }
    return CudaBackend.open(0);
  }
}
