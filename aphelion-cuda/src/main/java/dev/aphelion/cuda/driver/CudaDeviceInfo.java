package dev.aphelion.cuda.driver;

/**
 * Properties of one CUDA device.
 *
 * @param ordinal the device ordinal
 * @param name the device's name, for example "NVIDIA H100 80GB HBM3"
 * @param ccMajor compute capability, major part
 * @param ccMinor compute capability, minor part
 * @param multiprocessors number of streaming multiprocessors
 * @param totalMemoryBytes device memory in bytes
 * @param l2CacheBytes L2 cache size in bytes
 * @param maxSharedPerBlockOptin the most shared memory one block may ask for, in bytes
 * @param memoryClockKhz the peak memory clock in kHz, as the driver reports it
 * @param memoryBusWidthBits the global memory bus width in bits
 */
public record CudaDeviceInfo(
    int ordinal,
    String name,
    int ccMajor,
    int ccMinor,
    int multiprocessors,
    long totalMemoryBytes,
    int l2CacheBytes,
    int maxSharedPerBlockOptin,
    int memoryClockKhz,
    int memoryBusWidthBits) {

  /**
   * The peak memory bandwidth from the driver's clock and bus width ({@code 2 · clock · width / 8},
   * double data rate), the ceiling a memory-bound kernel's bytes per second are compared with.
   *
   * @return bytes per second, 0 if the driver reports no clock or width
   */
  public double peakMemoryBandwidth() {
    return 2.0 * memoryClockKhz * 1000.0 * memoryBusWidthBits / 8.0;
  }

  /**
   * The compute capability as one number.
   *
   * @return major * 10 + minor, for example 90 for an H100
   */
  public int computeCapability() {
    return ccMajor * 10 + ccMinor;
  }

  /**
   * The compute capability as text.
   *
   * @return for example "9.0"
   */
  public String computeCapabilityString() {
    return ccMajor + "." + ccMinor;
  }
}
