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
 */
public record CudaDeviceInfo(
    int ordinal,
    String name,
    int ccMajor,
    int ccMinor,
    int multiprocessors,
    long totalMemoryBytes,
    int l2CacheBytes,
    int maxSharedPerBlockOptin) {

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
