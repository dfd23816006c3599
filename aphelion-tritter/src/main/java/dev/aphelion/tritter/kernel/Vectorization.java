package dev.aphelion.tritter.kernel;

import dev.aphelion.core.error.ConfigException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides, once per JVM, whether Aphelion's CPU kernels run on the Java Vector API or on their
 * plain scalar reference implementations, and instantiates kernel families accordingly.
 *
 * <p>The Vector API is the incubator module {@code jdk.incubator.vector}; it is only usable when
 * the JVM was started with {@code --add-modules jdk.incubator.vector} and runs the C2 compiler.
 * When it is not usable the scalar path is chosen and exactly one WARN line explains why and how to
 * fix it. The system property {@code aphelion.kernels} ({@code auto} (default), {@code scalar} or
 * {@code vector}) forces either path; forcing {@code vector} where it is unavailable, or an unknown
 * value, makes {@link #get()} throw a {@code ConfigException} instead of silently running slower
 * code.
 *
 * <p>Kernel families keep their Vector API code in separate classes that are only loaded by name
 * through {@link #select} with the family's own {@code MethodHandles.Lookup}, so those classes stay
 * package-private and nothing outside them touches the incubator module (the Apache Lucene
 * vectorization provider is the model).
 */
public final class Vectorization {

  /** The system property that forces a path: {@code auto}, {@code scalar} or {@code vector}. */
  public static final String KERNELS_PROPERTY = "aphelion.kernels";

  private static final Logger LOG = LoggerFactory.getLogger(Vectorization.class);
  private static final String PROBE_CLASS = "dev.aphelion.tritter.kernel.PanamaProbe";

  /** Which implementation family is used. */
  public enum Mode {
    /** Plain Java loops: the reference implementations. */
    SCALAR,
    /** The Java Vector API ({@code jdk.incubator.vector}). */
    VECTOR
  }

  private final Mode mode;
  private final int vectorBitSize;

  private Vectorization(Mode mode, int vectorBitSize) {
    this.mode = mode;
    this.vectorBitSize = vectorBitSize;
  }

  private static volatile Vectorization chosen;

  /**
   * The process-wide choice, made once on the first successful call. A bad {@code
   * -Daphelion.kernels} value is reported on every call until it is corrected, and nothing is left
   * half-initialized: the next call after a fix makes the choice.
   *
   * @return the path every kernel family uses by default
   * @throws ConfigException if {@code -Daphelion.kernels=vector} was given but the Vector API
   *     cannot be used, or the property has an unknown value
   */
  public static Vectorization get() {
    Vectorization v = chosen;
    if (v != null) {
      return v;
    }
    synchronized (Vectorization.class) {
      if (chosen == null) {
        chosen = choose(System.getProperty(KERNELS_PROPERTY, "auto"));
      }
      return chosen;
    }
  }

  /** The scalar reference path; always available. */
  public static Vectorization scalar() {
    return new Vectorization(Mode.SCALAR, 0);
  }

  /**
   * The Vector API path, for tests and benchmarks that compare both paths in one JVM.
   *
   * @return the Vector API path
   * @throws IllegalStateException naming the reason when the Vector API is unusable here
   */
  public static Vectorization vector() {
    Probe probe = ProbeHolder.PROBE;
    if (probe.reason != null) {
      throw new IllegalStateException("Vector API unavailable: " + probe.reason);
    }
    return new Vectorization(Mode.VECTOR, probe.bitSize);
  }

  /** Why the Vector API path cannot be used in this JVM, or empty when it can. */
  public static Optional<String> vectorUnavailableReason() {
    return Optional.ofNullable(ProbeHolder.PROBE.reason);
  }

  /** The path this instance selects. */
  public Mode mode() {
    return mode;
  }

  /** The preferred vector width in bits on the vector path, 0 on the scalar path. */
  public int vectorBitSize() {
    return vectorBitSize;
  }

  /**
   * Instantiates one kernel family for this path.
   *
   * <p>The Vector API class is found and constructed through the family's own {@code lookup}, so
   * it can stay package-private: only code that holds a lookup of that package can load it, and
   * nothing outside it touches the incubator module.
   *
   * @param type the family's interface
   * @param scalar creates the scalar reference implementation
   * @param lookup {@code MethodHandles.lookup()} of a class in the family's package
   * @param vectorClassName the simple name of the Vector API implementation in that package, which
   *     must have a no-argument constructor and implement {@code type}
   * @param <T> the family's interface
   * @return the scalar implementation on the scalar path, else the Vector API one
   * @throws IllegalStateException if the Vector API class cannot be found or instantiated
   */
  public <T> T select(Class<T> type, Supplier<? extends T> scalar, MethodHandles.Lookup lookup, String vectorClassName) {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(scalar, "scalar");
    Objects.requireNonNull(lookup, "lookup");
    Objects.requireNonNull(vectorClassName, "vectorClassName");
    if (mode == Mode.SCALAR) {
      return scalar.get();
    }
    String name = lookup.lookupClass().getPackageName() + "." + vectorClassName;
    try {
      Class<?> impl = lookup.findClass(name);
      MethodHandle constructor = lookup.findConstructor(impl, MethodType.methodType(void.class));
      return type.cast(constructor.invoke());
    } catch (Error e) {
      if (e instanceof VirtualMachineError) {
        throw e;
      }
      throw new IllegalStateException("cannot instantiate Vector API implementation " + name + " of " + type.getName(), e);
    } catch (Throwable e) {
      throw new IllegalStateException("cannot instantiate Vector API implementation " + name + " of " + type.getName(), e);
    }
  }

  @Override
  public String toString() {
    return mode == Mode.SCALAR ? "scalar" : "vector(" + vectorBitSize + " bit)";
  }

  private record Probe(int bitSize, String reason) {}

  private static Probe probe() {
    int feature = Runtime.version().feature();
    if (feature < 25) {
      return new Probe(0, "JDK " + feature + " is older than the tested JDK 25");
    }
    String vmName = System.getProperty("java.vm.name", "");
    if (vmName.contains("Client VM")) {
      return new Probe(0, "the client VM has no C2 compiler; run a server VM");
    }
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      return new Probe(0, "module jdk.incubator.vector is not loaded; pass --add-modules jdk.incubator.vector to java");
    }
    try {
      Class<?> probe = Class.forName(PROBE_CLASS, true, Vectorization.class.getClassLoader());
      int bits = (int) probe.getMethod("preferredBitSize").invoke(null);
      if (bits < 128) {
        return new Probe(0, "the preferred vector size is only " + bits + " bits");
      }
      return new Probe(bits, null);
    } catch (ReflectiveOperationException | LinkageError e) {
      return new Probe(0, "the Vector API failed to initialize: " + e);
    }
  }

  private static final class ProbeHolder {
    static final Probe PROBE = probe();
  }

  private static Vectorization choose(String property) {
    String forced = property.trim().toLowerCase(Locale.ROOT);
    Probe probe = ProbeHolder.PROBE;
    switch (forced) {
      case "scalar" -> {
        LOG.info("Aphelion kernels: scalar (forced by -D{}=scalar)", KERNELS_PROPERTY);
        return scalar();
      }
      case "vector" -> {
        if (probe.reason != null) {
          throw new ConfigException("-D" + KERNELS_PROPERTY + "=vector was given but the Vector API is unavailable: " + probe.reason);
        }
        LOG.info("Aphelion kernels: Vector API, {} bit (forced by -D{}=vector)", probe.bitSize, KERNELS_PROPERTY);
        return new Vectorization(Mode.VECTOR, probe.bitSize);
      }
      case "auto", "" -> {
        if (probe.reason != null) {
          LOG.warn("Aphelion kernels: falling back to the scalar path ({}); they will be several times slower", probe.reason);
          return scalar();
        }
        LOG.debug("Aphelion kernels: Vector API, {} bit", probe.bitSize);
        return new Vectorization(Mode.VECTOR, probe.bitSize);
      }
      default -> throw new ConfigException("unknown value '" + property + "' for -D" + KERNELS_PROPERTY
          + " (expected auto, scalar or vector)");
    }
  }
}
