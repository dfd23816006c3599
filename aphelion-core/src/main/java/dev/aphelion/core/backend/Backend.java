package dev.aphelion.core.backend;

/**
 * A compute backend: a CPU engine, a GPU through CUDA, or the do-nothing {@link NullBackend}.
 * Obtained from a {@link BackendProvider} (usually through {@link BackendRegistry}); the caller
 * owns it and must {@link #close()} it, which releases native resources (device contexts, memory).
 * Using a closed backend's compute operations throws {@link IllegalStateException}; {@link
 * #name()}, {@link #capabilities()} and {@link #availability()} stay answerable.
 *
 * <p>This interface carries what every backend has in common. The operations a backend computes
 * with are typed interfaces declared by the compute modules (core cannot see their types); {@link
 * #operations(Class)} hands them out by type, as DJL's {@code Engine} hands out its {@code
 * NDManager}: for example {@code backend.operations(ComputeOps.class)} with aphelion-tritter's
 * {@code dev.aphelion.tritter.compute.ComputeOps}, implemented by the CPU and the CUDA backends.
 */
public interface Backend extends AutoCloseable {

  /**
   * The backend's name, equal to its provider's {@link BackendProvider#name()}.
   *
   * @return the name, for example {@code "tritter-cpu"}
   */
  String name();

  /**
   * What the device can do.
   *
   * @return the capabilities
   */
  DeviceCapabilities capabilities();

  /**
   * Whether this backend can still be used (a device may be lost), with a reason.
   *
   * @return the availability
   */
  Availability availability();

  /**
   * A new instance of the operations of type {@code type} on this backend, if it implements them.
   * The caller owns the result: where the type is {@link AutoCloseable}, closing it frees what it
   * allocated; closing the backend invalidates it too.
   *
   * @param type the operations interface, for example aphelion-tritter's {@code ComputeOps}
   * @param <T> the type
   * @return the operations, or empty if this backend does not implement {@code type}
   * @throws IllegalStateException if the backend is closed
   */
  default <T> java.util.Optional<T> operations(Class<T> type) {
    java.util.Objects.requireNonNull(type, "type");
    return java.util.Optional.empty();
  }

  /** Releases the backend's resources; calling it again has no effect. Does not throw checked exceptions. */
  @Override
  void close();
}
