package dev.aphelion.core.backend;

/**
 * Service-provider interface for backends, discovered with {@link java.util.ServiceLoader}: list
 * the implementing class in {@code META-INF/services/dev.aphelion.core.backend.BackendProvider}.
 *
 * <p>Contract (modelled on DJL's {@code EngineProvider}):
 *
 * <ul>
 *   <li>The public no-argument constructor is cheap: it must not load native libraries, touch
 *       devices or allocate much. {@link #name()} and {@link #priority()} are constants.
 *   <li>{@link #availability()} never throws: a missing library or driver is reported as {@link
 *       Availability#unavailable(String)} with a reason that says how to fix it. It may probe
 *       (and may load a native library if that is the only way to know), caching the answer.
 *   <li>{@link #create()} does the expensive work lazily, only when asked, and returns a new
 *       {@link Backend} owned by the caller. A provider may share process-wide native state (one
 *       driver initialisation) between the backends it creates.
 * </ul>
 */
public interface BackendProvider {

  /** Priority of {@link NullBackend}: a provider with it is never chosen by priority, only by name. */
  int PRIORITY_NULL = Integer.MIN_VALUE;

  /** Suggested priority of a portable scalar CPU backend. */
  int PRIORITY_CPU_SCALAR = 100;

  /** Suggested priority of a SIMD CPU backend. */
  int PRIORITY_CPU_VECTOR = 200;

  /** Suggested priority of a GPU backend. */
  int PRIORITY_GPU = 300;

  /**
   * The backend's unique name, matched case-insensitively by {@link BackendRegistry#get(String)}.
   *
   * @return a constant, non-blank name, for example {@code "cuda"}
   */
  String name();

  /**
   * Rank used by {@link BackendRegistry#selectDefault()}: the available provider with the highest
   * priority wins (ties broken by name).
   *
   * @return a constant priority
   */
  int priority();

  /**
   * Whether {@link #create()} can succeed here, and why. Must not throw.
   *
   * @return the availability with a human-readable reason
   */
  Availability availability();

  /**
   * Creates a backend, doing any expensive initialisation now.
   *
   * @return a new backend; the caller closes it
   * @throws dev.aphelion.core.error.BackendException if the backend cannot be created
   */
  Backend create();
}
