package dev.aphelion.tritter.accel;

import dev.aphelion.core.backend.Availability;
import dev.aphelion.core.backend.Backend;
import dev.aphelion.core.backend.DeviceCapabilities;
import dev.aphelion.core.backend.DeviceKind;
import dev.aphelion.tritter.compute.ComputeOps;
import dev.aphelion.tritter.dense.DenseMatmul;
import dev.aphelion.tritter.kernel.RowPool;
import dev.aphelion.tritter.kernel.Vectorization;
import dev.aphelion.tritter.model.CpuComputeOps;
import dev.aphelion.tritter.ternary.TernaryMatmul;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The CPU backend of aphelion-tritter: packed ternary and dense kernels on the Java Vector API (or
 * their scalar references), split across the cores by a {@link RowPool}.
 *
 * <p>Its capabilities are measured, not declared: the cores the JVM may use, the preferred vector
 * width, whether the Vector API is active, the maximum heap, and the CPU model where the OS tells
 * it. Obtain it from {@link dev.aphelion.core.backend.BackendRegistry} by the name {@value #NAME}
 * or as the default when no GPU backend is available. Closing it releases nothing native (there is
 * nothing) but marks it closed, so later {@link #ternaryMatmul()} calls fail.
 */
public final class TritterAccelBackend implements Backend {

  /** The backend's registry name. */
  public static final String NAME = "tritter-accel";

  private final Vectorization vectorization;
  private final DeviceCapabilities capabilities;
  private volatile boolean closed;

  TritterAccelBackend(Vectorization vectorization) {
    this.vectorization = Objects.requireNonNull(vectorization, "vectorization");
    this.capabilities = probe(vectorization);
  }

  /** A backend on the process-wide kernel choice ({@link Vectorization#get()}). */
  public static TritterAccelBackend create() {
    return new TritterAccelBackend(Vectorization.get());
  }

  private static DeviceCapabilities probe(Vectorization v) {
    boolean vector = v.mode() == Vectorization.Mode.VECTOR;
    return DeviceCapabilities.builder(cpuModel(), DeviceKind.CPU)
        .computeUnits(Runtime.getRuntime().availableProcessors())
        .vectorBitWidth(v.vectorBitSize())
        .maxMemoryBytes(Runtime.getRuntime().maxMemory())
        // int8 activations x ternary weights is a native path of this backend's kernels.
        .int8(true)
        .attribute("vector_api", vector)
        .attribute("kernels", v.toString())
        .attribute("os.arch", System.getProperty("os.arch", "unknown"))
        .attribute("java.version", Runtime.version().toString())
        .build();
  }

  private static String cpuModel() {
    Path cpuinfo = Path.of("/proc/cpuinfo");
    if (Files.isReadable(cpuinfo)) {
      try (Stream<String> lines = Files.lines(cpuinfo)) {
        String model = lines.filter(l -> l.toLowerCase(Locale.ROOT).startsWith("model name")).findFirst()
            .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(null);
        if (model != null && !model.isEmpty()) {
          return model;
        }
      } catch (IOException | RuntimeException e) {
        // Fall through to the architecture name: the model is informational only.
      }
    }
    return System.getProperty("os.arch", "cpu");
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public DeviceCapabilities capabilities() {
    return capabilities;
  }

  @Override
  public Availability availability() {
    return closed ? Availability.unavailable("backend was closed") : Availability.available(capabilities.summary());
  }

  /** The kernel path this backend runs. */
  public Vectorization vectorization() {
    return vectorization;
  }

  /**
   * Ternary matrix kernels on this backend's path and the shared row pool.
   *
   * @throws IllegalStateException if the backend was closed
   */
  public TernaryMatmul ternaryMatmul() {
    ensureOpen();
    return new TernaryMatmul(vectorization, RowPool.shared());
  }

  /**
   * Dense f32 matrix kernels on this backend's path and the shared row pool.
   *
   * @throws IllegalStateException if the backend was closed
   */
  public DenseMatmul denseMatmul() {
    ensureOpen();
    return new DenseMatmul(vectorization, RowPool.shared());
  }

  /**
   * Hands out {@link ComputeOps} (as {@link CpuComputeOps}: the CPU model's own kernels); other
   * types are not implemented here.
   *
   * @throws IllegalStateException if the backend was closed
   */
  @Override
  public <T> Optional<T> operations(Class<T> type) {
    Objects.requireNonNull(type, "type");
    ensureOpen();
    return type == ComputeOps.class ? Optional.of(type.cast(new CpuComputeOps(NAME))) : Optional.empty();
  }

  /**
   * Fails if the backend was closed.
   *
   * @throws IllegalStateException if it was
   */
  public void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("backend '" + NAME + "' is closed");
    }
  }

  @Override
  public void close() {
    closed = true;
  }

  @Override
  public String toString() {
    return NAME + "[" + capabilities.summary() + "]";
  }
}
