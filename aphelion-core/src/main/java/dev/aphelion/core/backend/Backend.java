package dev.aphelion.core.backend;

/**
 * A compute backend: a CPU engine, a GPU through CUDA, or the do-nothing {@link NullBackend}.
 * Obtained from a {@link BackendProvider} (usually through {@link BackendRegistry}); the caller
 * owns it and must {@link #close()} it, which releases native resources (device contexts, memory).
 * Using a closed backend's compute operations throws {@link IllegalStateException}; {@link
 * #name()}, {@link #capabilities()} and {@link #availability()} stay answerable.
 *
 * <p>This interface carries what every backend has in common; modules extend it with their
 * operations (for example the ternary kernels of aphelion-tritter and aphelion-cuda).
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

  /** Releases the backend's resources; calling it again has no effect. Does not throw checked exceptions. */
  @Override
  void close();
}
