package dev.aphelion.tritter.accel;

import dev.aphelion.core.backend.Availability;
import dev.aphelion.core.backend.Backend;
import dev.aphelion.core.backend.BackendProvider;
import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.BackendException;
import dev.aphelion.tritter.kernel.Vectorization;

/**
 * Provides {@link TritterAccelBackend}; registered in aphelion-tritter's {@code META-INF/services}.
 * Priority {@link #PRIORITY_CPU_VECTOR} when the Vector API is active, {@link #PRIORITY_CPU_SCALAR}
 * on the scalar fallback: above the null backend either way, below GPU backends.
 */
public final class TritterAccelBackendProvider implements BackendProvider {

  /** Creates the provider (the {@link java.util.ServiceLoader} entry point); does no work. */
  public TritterAccelBackendProvider() {}

  @Override
  public String name() {
    return TritterAccelBackend.NAME;
  }

  @Override
  public int priority() {
    // Deciding the path is a cheap, cached probe of the JVM (no native code).
    try {
      return Vectorization.get().mode() == Vectorization.Mode.VECTOR ? PRIORITY_CPU_VECTOR : PRIORITY_CPU_SCALAR;
    } catch (AphelionException e) {
      return PRIORITY_CPU_SCALAR;
    }
  }

  @Override
  public Availability availability() {
    try {
      Vectorization v = Vectorization.get();
      int cores = Runtime.getRuntime().availableProcessors();
      return Availability.available(v.mode() == Vectorization.Mode.VECTOR
          ? "Vector API active, " + v.vectorBitSize() + "-bit vectors, " + cores + " cores"
          : "scalar kernels (" + Vectorization.vectorUnavailableReason().orElse("forced by -D" + Vectorization.KERNELS_PROPERTY + "=scalar")
              + "), " + cores + " cores");
    } catch (AphelionException e) {
      return Availability.unavailable(e.getMessage());
    }
  }

  @Override
  public Backend create() {
    try {
      return new TritterAccelBackend(Vectorization.get());
    } catch (AphelionException e) {
      throw new BackendException("cannot create backend '" + TritterAccelBackend.NAME + "': " + e.getMessage(), e);
    }
  }
}
