package dev.aphelion.core.backend;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What a backend's device can do. Immutable; build one with {@link #builder(String, DeviceKind)}.
 *
 * @param deviceName the device's name, for example "Intel Xeon (AVX-512)" or "NVIDIA H100"
 * @param kind CPU, GPU or virtual
 * @param computeUnits cores (CPU) or streaming multiprocessors (GPU) usable by the backend; 0 when
 *     the backend computes nothing
 * @param vectorBitWidth preferred SIMD width in bits (for example 512 for AVX-512), 0 when not
 *     applicable or unknown
 * @param maxMemoryBytes memory the backend may use (heap or device memory), 0 when unknown
 * @param f16 whether half-precision float arithmetic is supported natively
 * @param bf16 whether bfloat16 arithmetic is supported natively
 * @param tf32 whether TF32 tensor-core arithmetic is supported
 * @param int8 whether int8 dot products are supported natively
 * @param attributes further free-form facts (driver version, compute capability), sorted by key
 */
public record DeviceCapabilities(
    String deviceName,
    DeviceKind kind,
    int computeUnits,
    int vectorBitWidth,
    long maxMemoryBytes,
    boolean f16,
    boolean bf16,
    boolean tf32,
    boolean int8,
    SortedMap<String, String> attributes) {

  /** Validates the components and freezes the attributes. */
  public DeviceCapabilities {
    Objects.requireNonNull(deviceName, "deviceName");
    Objects.requireNonNull(kind, "kind");
    if (computeUnits < 0) {
      throw new IllegalArgumentException("computeUnits must be >= 0, got " + computeUnits);
    }
    if (vectorBitWidth < 0) {
      throw new IllegalArgumentException("vectorBitWidth must be >= 0, got " + vectorBitWidth);
    }
    if (maxMemoryBytes < 0) {
      throw new IllegalArgumentException("maxMemoryBytes must be >= 0, got " + maxMemoryBytes);
    }
    attributes =
        Collections.unmodifiableSortedMap(
            new TreeMap<>(attributes == null ? Map.of() : attributes));
  }

  /**
   * Starts a builder; every numeric field defaults to 0 and every flag to {@code false}.
   *
   * @param deviceName the device's name
   * @param kind the kind of device
   * @return a new builder
   */
  public static Builder builder(String deviceName, DeviceKind kind) {
    return new Builder(deviceName, kind);
  }

  /**
   * A one-line summary, for listings.
   *
   * @return for example {@code "CPU 'x86_64' 2 units, 512-bit vectors, 4.0 GiB, int8"}
   */
  public String summary() {
    StringBuilder sb = new StringBuilder();
    sb.append(kind).append(" '").append(deviceName).append("' ").append(computeUnits).append(" units");
    if (vectorBitWidth > 0) {
      sb.append(", ").append(vectorBitWidth).append("-bit vectors");
    }
    if (maxMemoryBytes > 0) {
      sb.append(String.format(java.util.Locale.ROOT, ", %.1f GiB", maxMemoryBytes / (double) (1L << 30)));
    }
    if (f16) {
      sb.append(", f16");
    }
    if (bf16) {
      sb.append(", bf16");
    }
    if (tf32) {
      sb.append(", tf32");
    }
    if (int8) {
      sb.append(", int8");
    }
    return sb.toString();
  }

  /** Builder for {@link DeviceCapabilities}. */
  public static final class Builder {
    private final String deviceName;
    private final DeviceKind kind;
    private int computeUnits;
    private int vectorBitWidth;
    private long maxMemoryBytes;
    private boolean f16;
    private boolean bf16;
    private boolean tf32;
    private boolean int8;
    private final TreeMap<String, String> attributes = new TreeMap<>();

    private Builder(String deviceName, DeviceKind kind) {
      this.deviceName = Objects.requireNonNull(deviceName, "deviceName");
      this.kind = Objects.requireNonNull(kind, "kind");
    }

    /**
     * Sets the number of compute units.
     *
     * @param n cores or multiprocessors, at least 0
     * @return this builder
     */
    public Builder computeUnits(int n) {
      this.computeUnits = n;
      return this;
    }

    /**
     * Sets the preferred SIMD width.
     *
     * @param bits width in bits, at least 0
     * @return this builder
     */
    public Builder vectorBitWidth(int bits) {
      this.vectorBitWidth = bits;
      return this;
    }

    /**
     * Sets the usable memory.
     *
     * @param bytes memory in bytes, at least 0
     * @return this builder
     */
    public Builder maxMemoryBytes(long bytes) {
      this.maxMemoryBytes = bytes;
      return this;
    }

    /**
     * Sets native half-precision support.
     *
     * @param supported whether supported
     * @return this builder
     */
    public Builder f16(boolean supported) {
      this.f16 = supported;
      return this;
    }

    /**
     * Sets native bfloat16 support.
     *
     * @param supported whether supported
     * @return this builder
     */
    public Builder bf16(boolean supported) {
      this.bf16 = supported;
      return this;
    }

    /**
     * Sets TF32 support.
     *
     * @param supported whether supported
     * @return this builder
     */
    public Builder tf32(boolean supported) {
      this.tf32 = supported;
      return this;
    }

    /**
     * Sets native int8 dot-product support.
     *
     * @param supported whether supported
     * @return this builder
     */
    public Builder int8(boolean supported) {
      this.int8 = supported;
      return this;
    }

    /**
     * Adds a free-form attribute.
     *
     * @param key the key
     * @param value the value, recorded with {@code String.valueOf}
     * @return this builder
     */
    public Builder attribute(String key, Object value) {
      attributes.put(Objects.requireNonNull(key, "key"), String.valueOf(Objects.requireNonNull(value, "value")));
      return this;
    }

    /**
     * Builds the capabilities.
     *
     * @return the immutable record
     * @throws IllegalArgumentException if a number is negative
     */
    public DeviceCapabilities build() {
      return new DeviceCapabilities(
          deviceName, kind, computeUnits, vectorBitWidth, maxMemoryBytes, f16, bf16, tf32, int8, attributes);
    }
  }
}
