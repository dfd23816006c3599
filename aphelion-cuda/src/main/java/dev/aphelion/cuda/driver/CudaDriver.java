package dev.aphelion.cuda.driver;

import dev.aphelion.core.error.BackendException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * Process-wide entry to the CUDA driver: loads JCuda's JNI library (from a fresh owner-only
 * directory, see {@code JCudaNatives}) and {@code libcuda.so.1} on first use, calls {@code cuInit}
 * once, and answers whether a usable device exists. {@link #probe()} never throws; everything
 * else throws {@link BackendException}. {@link #driverPresent()} answers without native code.
 */
public final class CudaDriver {

  /** Lowest driver version (as {@code cuDriverGetVersion} reports it) the kernel image needs. */
  public static final int MIN_DRIVER_VERSION = 13000;

  /** Lowest compute capability (major * 10 + minor) the kernel image has code for. */
  public static final int MIN_COMPUTE_CAPABILITY = 80;

  /** System property that, when {@code true}, makes the probe report CUDA as disabled. */
  public static final String DISABLE_PROPERTY = "aphelion.cuda.disable";

  // Driver API codes JCuda 12.6 does not name.
  private static final int CUDA_ERROR_INSUFFICIENT_DRIVER = 35;
  private static final int CUDA_ERROR_SYSTEM_DRIVER_MISMATCH = 803;

  private CudaDriver() {}

  /**
   * The result of probing the driver.
   *
   * @param available whether a device usable by the kernels exists
   * @param reason what was found or what is missing, in words
   * @param driverVersion the driver's CUDA version (for example 13000), 0 if unknown
   * @param devices the devices found, in ordinal order (empty if none or unknown)
   */
  public record Probe(boolean available, String reason, int driverVersion, List<CudaDeviceInfo> devices) {
    /** Freezes the device list. */
    public Probe {
      devices = List.copyOf(devices);
    }
  }

  private static final class Holder {
    static final Probe PROBE = doProbe();

    static {
      probed = true;
    }
  }

  /**
   * Probes the driver once per process (the answer is cached) unless {@value #DISABLE_PROPERTY} is
   * set, in which case CUDA is reported unavailable without touching native code.
   *
   * @return the probe result; never throws
   */
  public static Probe probe() {
    if (Boolean.getBoolean(DISABLE_PROPERTY)) {
      return new Probe(false, "disabled by -D" + DISABLE_PROPERTY + "=true", 0, List.of());
    }
    return Holder.PROBE;
  }

  private static volatile boolean probed;

  /**
   * Whether {@link #probe()} has run in this process (so its cached answer costs nothing).
   *
   * @return {@code true} once the driver was probed
   */
  public static boolean probed() {
    return probed;
  }

  /**
   * Looks for {@code libcuda.so.1} (the NVIDIA driver) without loading any native code: in the
   * directories of {@code LD_LIBRARY_PATH} and the usual system library directories.
   *
   * @return the file found, or empty
   */
  public static java.util.Optional<java.nio.file.Path> driverPresent() {
    List<String> dirs = new ArrayList<>();
    String ld = System.getenv("LD_LIBRARY_PATH");
    if (ld != null) {
      dirs.addAll(List.of(ld.split(java.io.File.pathSeparator)));
    }
    dirs.addAll(List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib",
        "/lib/x86_64-linux-gnu", "/lib64", "/usr/local/cuda/lib64/stubs/..", "/usr/lib/wsl/lib"));
    for (String d : dirs) {
      if (d.isBlank()) {
        continue;
      }
      java.nio.file.Path f = java.nio.file.Path.of(d, "libcuda.so.1");
      if (java.nio.file.Files.isReadable(f)) {
        return java.util.Optional.of(f.normalize());
      }
    }
    return java.util.Optional.empty();
  }

  /**
   * Throws unless {@link #probe()} found a usable device.
   *
   * @throws BackendException naming the reason CUDA is unavailable
   */
  public static void requireAvailable() {
    Probe p = probe();
    if (!p.available()) {
      throw new BackendException("CUDA is unavailable: " + p.reason());
    }
  }

  private static Probe doProbe() {
    int init;
    try {
      // Initialising JCudaDriver loads libJCudaDriver (which links libcuda.so.1): from a private
      // directory, never from a file someone may have planted in the shared temporary directory.
      JCudaNatives.load();
      init = JCudaDriver.cuInit(0);
    } catch (UnsatisfiedLinkError e) {
      String msg = String.valueOf(e.getMessage());
      if (msg.contains("libcuda")) {
        return new Probe(
            false, "libcuda.so.1 not found: install the NVIDIA driver (" + lineWith(msg, "libcuda") + ")", 0, List.of());
      }
      if (msg.contains("undefined symbol")) {
        return new Probe(false, "driver too old: " + msg, 0, List.of());
      }
      return new Probe(false, "JCuda's native library failed to load: " + msg, 0, List.of());
    } catch (LinkageError e) {
      // ExceptionInInitializerError, NoClassDefFoundError after an earlier failure, ...
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      String msg = cause.getClass().getSimpleName() + ": " + cause.getMessage();
      if (msg.contains("libcuda")) {
        return new Probe(false, "libcuda.so.1 not found: install the NVIDIA driver (" + msg + ")", 0, List.of());
      }
      return new Probe(false, "JCuda failed to initialise: " + msg, 0, List.of());
    } catch (RuntimeException e) {
      return new Probe(false, "JCuda failed to initialise: " + e, 0, List.of());
    }
    if (init == CUresult.CUDA_ERROR_NO_DEVICE) {
      return new Probe(false, "no CUDA device", 0, List.of());
    }
    if (init == CUDA_ERROR_INSUFFICIENT_DRIVER || init == CUDA_ERROR_SYSTEM_DRIVER_MISMATCH) {
      return new Probe(false, "driver too old: cuInit says " + CUresult.stringFor(init) + " (" + init + ")", 0, List.of());
    }
    if (init != CUresult.CUDA_SUCCESS) {
      return new Probe(false, "cuInit failed: " + CUresult.stringFor(init), 0, List.of());
    }
    try {
      int[] v = new int[1];
      check(JCudaDriver.cuDriverGetVersion(v), "cuDriverGetVersion");
      int version = v[0];
      int[] n = new int[1];
      check(JCudaDriver.cuDeviceGetCount(n), "cuDeviceGetCount");
      if (n[0] == 0) {
        return new Probe(false, "no CUDA device", version, List.of());
      }
      List<CudaDeviceInfo> devices = new ArrayList<>();
      for (int i = 0; i < n[0]; i++) {
        devices.add(deviceInfo(i));
      }
      if (version < MIN_DRIVER_VERSION) {
        return new Probe(
            false,
            "driver too old: CUDA " + versionString(version) + " driver, the kernel image needs "
                + versionString(MIN_DRIVER_VERSION) + " or newer (R580+)",
            version,
            devices);
      }
      CudaDeviceInfo first = devices.get(0);
      if (first.computeCapability() < MIN_COMPUTE_CAPABILITY) {
        return new Probe(
            false,
            "device 0 (" + first.name() + ") has compute capability " + first.computeCapabilityString()
                + ", the kernels need 8.0 or newer",
            version,
            devices);
      }
      return new Probe(
          true,
          first.name() + ", compute capability " + first.computeCapabilityString() + ", " + first.multiprocessors()
              + " SMs, CUDA driver " + versionString(version),
          version,
          devices);
    } catch (RuntimeException e) {
      return new Probe(false, "probing CUDA devices failed: " + e.getMessage(), 0, List.of());
    }
  }

  /** JCuda's load errors span many lines; keep the one that names the missing library. */
  private static String lineWith(String msg, String needle) {
    for (String line : msg.split("\\R")) {
      if (line.contains(needle)) {
        return line.trim();
      }
    }
    return msg.trim();
  }

  static String versionString(int v) {
    return (v / 1000) + "." + (v % 1000) / 10;
  }

  /**
   * Reads a device's properties (the driver must be initialised, see {@link #probe()}).
   *
   * @param ordinal the device ordinal
   * @return the properties
   * @throws BackendException if the driver fails
   */
  public static CudaDeviceInfo deviceInfo(int ordinal) {
    CUdevice dev = new CUdevice();
    check(JCudaDriver.cuDeviceGet(dev, ordinal), "cuDeviceGet(" + ordinal + ")");
    byte[] name = new byte[256];
    check(JCudaDriver.cuDeviceGetName(name, name.length, dev), "cuDeviceGetName");
    int len = 0;
    while (len < name.length && name[len] != 0) {
      len++;
    }
    long[] mem = new long[1];
    check(JCudaDriver.cuDeviceTotalMem(mem, dev), "cuDeviceTotalMem");
    return new CudaDeviceInfo(
        ordinal,
        new String(name, 0, len, StandardCharsets.UTF_8),
        attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
        attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
        attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT),
        mem[0],
        attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE),
        attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN),
        attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE),
        attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH));
  }

  private static int attribute(CUdevice dev, int attr) {
    int[] v = new int[1];
    check(JCudaDriver.cuDeviceGetAttribute(v, attr, dev), "cuDeviceGetAttribute(" + attr + ")");
    return v[0];
  }

  /**
   * Throws if a driver call failed.
   *
   * @param result the {@code CUresult} the call returned
   * @param what the call, for the message
   * @throws BackendException naming the call and the error
   */
  public static void check(int result, String what) {
    if (result != CUresult.CUDA_SUCCESS) {
      throw new BackendException(what + " failed: " + CUresult.stringFor(result) + " (" + result + ")");
    }
  }
}
