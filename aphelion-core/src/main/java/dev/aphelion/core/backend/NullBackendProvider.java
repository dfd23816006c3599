package dev.aphelion.core.backend;

/**
 * Provides {@link NullBackend}; registered in aphelion-core's {@code META-INF/services}. Always
 * available, with priority {@link BackendProvider#PRIORITY_NULL}, which default selection never
 * picks: it is used only when asked for by name ({@code -Daphelion.backend=null}), so a broken CPU
 * or GPU backend is an error, not a backend that silently computes nothing.
 */
public final class NullBackendProvider implements BackendProvider {
  static final Availability AVAILABILITY =
      Availability.available("always available; does no work (testing and orchestration only)");

  /** Creates the provider (the {@link java.util.ServiceLoader} entry point). */
  public NullBackendProvider() {}

  @Override
  public String name() {
    return NullBackend.NAME;
  }

  @Override
  public int priority() {
    return PRIORITY_NULL;
  }

  @Override
  public Availability availability() {
    return AVAILABILITY;
  }

  @Override
  public Backend create() {
    return new NullBackend();
  }
}
