package dev.aphelion.core.backend;

/**
 * A backend that does nothing and is always available. It exists so that pipelines, hooks and
 * orchestration code can run in tests and on machines without any compute backend; it must never
 * be used to compute anything (it has no operations and reports {@link DeviceKind#VIRTUAL} with
 * zero compute units). Its provider, {@link NullBackendProvider}, has the lowest possible priority,
 * so any real backend that is available is preferred.
 */
public final class NullBackend implements Backend {
  /** The name of the null backend. */
  public static final String NAME = "null";

  private static final DeviceCapabilities CAPABILITIES =
      DeviceCapabilities.builder("none", DeviceKind.VIRTUAL)
          .attribute("purpose", "testing and orchestration only; computes nothing")
          .build();

  /** Creates a null backend. */
  public NullBackend() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public DeviceCapabilities capabilities() {
    return CAPABILITIES;
  }

  @Override
  public Availability availability() {
    return NullBackendProvider.AVAILABILITY;
  }

  /** Does nothing: the null backend holds no resources. */
  @Override
  public void close() {}

  @Override
  public String toString() {
    return "NullBackend";
  }
}
