package dev.aphelion.core.backend;

import dev.aphelion.core.error.BackendException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the {@link BackendProvider}s on the class path (or takes an injected list), reports each
 * with its availability, and chooses one.
 *
 * <p>Discovery is fault-tolerant: a provider whose class cannot be loaded, whose constructor
 * throws, or whose {@link BackendProvider#availability()} throws appears in {@link #listing()} with
 * its error and is never selected; it does not make the registry fail. Availability is asked once
 * per provider, on first need, and remembered.
 *
 * <p>Default selection ({@link #selectDefault()}): the system property {@value #PROPERTY}, else the
 * environment variable {@value #ENV}, else the available provider with the highest {@link
 * BackendProvider#priority()} (ties broken by name). A name given by property or environment must
 * exist and be available: it is an error, never a silent fall-back. Names are matched
 * case-insensitively. Thread-safe.
 */
public final class BackendRegistry {
  /** System property naming the backend to use. */
  public static final String PROPERTY = "aphelion.backend";

  /** Environment variable naming the backend to use (read when the property is not set). */
  public static final String ENV = "APHELION_BACKEND";

  private static final Pattern PROVIDER_IN_MESSAGE = Pattern.compile("Provider (\\S+)");

  private final List<Slot> slots;
  private final Map<String, Slot> byName;
  private final UnaryOperator<String> properties;
  private final UnaryOperator<String> environment;

  /**
   * One row of the listing: a discovered provider (or a failed discovery) with its availability.
   *
   * @param name the provider's name, or its class name when it could not be constructed
   * @param className the provider's class name, or {@code "?"} when even that is unknown
   * @param priority the provider's priority ({@link Integer#MIN_VALUE} for failed entries)
   * @param availability whether it can be used, and why
   * @param error what went wrong while discovering it or asking its availability, or {@code null}
   * @param provider the provider, or {@code null} when it could not be constructed
   */
  public record ProviderInfo(
      String name,
      String className,
      int priority,
      Availability availability,
      Throwable error,
      BackendProvider provider) {

    /**
     * Whether this provider can be selected: it was constructed and reports itself available.
     *
     * @return {@code true} if usable
     */
    public boolean isUsable() {
      return provider != null && availability.available();
    }
  }

  /** Where the default backend's name came from. */
  public enum Source {
    /** The system property {@value BackendRegistry#PROPERTY}. */
    SYSTEM_PROPERTY,
    /** The environment variable {@value BackendRegistry#ENV}. */
    ENVIRONMENT,
    /** No name was given; the highest-priority available provider was taken. */
    PRIORITY
  }

  /**
   * The outcome of default selection.
   *
   * @param provider the chosen provider
   * @param source where the choice came from
   * @param requested the name that was requested, or {@code null} for {@link Source#PRIORITY}
   */
  public record Selection(BackendProvider provider, Source source, String requested) {}

  private static final class Slot {
    final String name;
    final String className;
    final int priority;
    final BackendProvider provider;
    final Throwable discoveryError;
    private Availability availability;
    private Throwable availabilityError;

    Slot(String name, String className, int priority, BackendProvider provider, Throwable error) {
      this.name = name;
      this.className = className;
      this.priority = priority;
      this.provider = provider;
      this.discoveryError = error;
      if (provider == null) {
        this.availability = Availability.unavailable("discovery", error);
      }
    }

    synchronized ProviderInfo info() {
      if (availability == null) {
        try {
          Availability a = provider.availability();
          availability =
              a != null ? a : Availability.unavailable("provider reported no availability");
        } catch (Throwable t) { // a broken provider must not break the registry
          rethrowIfFatal(t);
          availabilityError = t;
          availability = Availability.unavailable("availability check", t);
        }
      }
      Throwable error = discoveryError != null ? discoveryError : availabilityError;
      return new ProviderInfo(name, className, priority, availability, error, provider);
    }
  }

  private BackendRegistry(
      List<Slot> slots, UnaryOperator<String> properties, UnaryOperator<String> environment) {
    List<Slot> sorted = new ArrayList<>(slots);
    sorted.sort(
        Comparator.comparingInt((Slot s) -> s.priority)
            .reversed()
            .thenComparing(s -> s.name.toLowerCase(Locale.ROOT))
            .thenComparing(s -> s.className));
    this.slots = List.copyOf(sorted);
    Map<String, Slot> names = new LinkedHashMap<>();
    for (Slot s : slots) { // discovery order decides duplicates, see build()
      if (s.provider != null) {
        names.putIfAbsent(s.name.toLowerCase(Locale.ROOT), s);
      }
    }
    this.byName = names;
    this.properties = properties;
    this.environment = environment;
  }

  /**
   * Discovers providers with {@link ServiceLoader} through the thread's context class loader (or
   * this class's loader if there is none), reading the real system properties and environment.
   *
   * @return the registry
   */
  public static BackendRegistry load() {
    return builder().build();
  }

  /**
   * Starts a builder, for tests or embedding code that supplies providers or settings itself.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Every discovered provider, failed ones included, by priority (highest first) then name. Asks
   * each provider's availability the first time.
   *
   * @return an immutable list
   */
  public List<ProviderInfo> listing() {
    return slots.stream().map(Slot::info).toList();
  }

  /**
   * Names of the successfully constructed providers, sorted.
   *
   * @return the known names
   */
  public List<String> names() {
    return byName.values().stream().map(s -> s.name).sorted().toList();
  }

  /**
   * The provider with this name (case-insensitive), whether or not it is available.
   *
   * @param name the backend name
   * @return the provider
   * @throws BackendException if no provider has this name (the message lists the known names) or
   *     the provider with this name failed to load (the cause is chained)
   */
  public BackendProvider get(String name) {
    Objects.requireNonNull(name, "name");
    Slot slot = byName.get(name.trim().toLowerCase(Locale.ROOT));
    if (slot == null) {
      for (Slot s : slots) {
        if (s.provider == null && s.name.equalsIgnoreCase(name.trim())) {
          throw new BackendException(
              "backend provider '" + name + "' failed to load", s.discoveryError);
        }
      }
      throw new BackendException(
          "unknown backend '" + name + "'; known backends: " + String.join(", ", names()));
    }
    return slot.provider;
  }

  /**
   * The availability of the named provider (asked once, then remembered).
   *
   * @param name the backend name
   * @return its availability
   * @throws BackendException if the name is unknown
   */
  public Availability availability(String name) {
    get(name);
    return byName.get(name.trim().toLowerCase(Locale.ROOT)).info().availability();
  }

  /**
   * Creates the named backend after checking that it is available.
   *
   * @param name the backend name
   * @return a new backend owned by the caller
   * @throws BackendException if the name is unknown, the backend is unavailable (the message gives
   *     the reason) or its creation fails (the cause is chained)
   */
  public Backend open(String name) {
    BackendProvider provider = get(name);
    return openChecked(provider, availability(name));
  }

  /**
   * Chooses the default provider: property, environment variable, then priority.
   *
   * @return the chosen provider
   * @throws BackendException if a requested name is unknown or unavailable, or nothing is
   *     available
   */
  public BackendProvider selectDefault() {
    return defaultSelection().provider();
  }

  /**
   * Chooses the default provider and says why (see {@link #selectDefault()}).
   *
   * @return the selection
   * @throws BackendException as {@link #selectDefault()}
   */
  public Selection defaultSelection() {
    String requested = blankToNull(properties.apply(PROPERTY));
    Source source = Source.SYSTEM_PROPERTY;
    if (requested == null) {
      requested = blankToNull(environment.apply(ENV));
      source = Source.ENVIRONMENT;
    }
    if (requested != null) {
      String origin =
          source == Source.SYSTEM_PROPERTY ? "system property " + PROPERTY : "environment " + ENV;
      BackendProvider provider;
      try {
        provider = get(requested);
      } catch (BackendException e) {
        throw new BackendException(origin + " requests backend '" + requested + "': " + e.getMessage(), e);
      }
      Availability a = availability(requested);
      if (!a.available()) {
        throw new BackendException(
            origin + " requests backend '" + requested + "', which is unavailable: " + a.reason());
      }
      return new Selection(provider, source, requested);
    }
    for (Slot s : slots) { // already sorted by priority, then name
      if (s.priority != BackendProvider.PRIORITY_NULL && s.info().isUsable()) {
        return new Selection(s.provider, Source.PRIORITY, null);
      }
    }
    throw new BackendException(noBackendMessage());
  }

  private String noBackendMessage() {
    StringBuilder b = new StringBuilder("no computing backend is usable (the '").append(NullBackend.NAME)
        .append("' backend is chosen only by name: -D").append(PROPERTY).append('=').append(NullBackend.NAME)
        .append("); providers:");
    for (ProviderInfo i : listing()) {
      b.append("\n  - ").append(i.name()).append(" (").append(i.className()).append(", priority ")
          .append(i.priority()).append("): ");
      if (i.provider() == null) {
        b.append("could not be loaded: ").append(i.error());
        continue;
      } else if (i.priority() == BackendProvider.PRIORITY_NULL) {
        b.append("computes nothing; not chosen by priority");
      } else {
        b.append(i.availability().available() ? "available" : "unavailable: " + i.availability().reason());
      }
      if (i.error() != null && !i.availability().reason().contains(String.valueOf(i.error().getMessage()))) {
        b.append(" [").append(i.error()).append(']');
      }
    }
    if (listing().size() <= 1) {
      b.append("\n  add aphelion-tritter (CPU) or aphelion-cuda (GPU) to the class path or module path;"
          + " in a shaded jar, merge META-INF/services with the ServicesResourceTransformer");
    }
    return b.toString();
  }

  /**
   * Creates the default backend ({@link #selectDefault()}).
   *
   * @return a new backend owned by the caller
   * @throws BackendException if selection or creation fails
   */
  public Backend openDefault() {
    BackendProvider p = selectDefault();
    return openChecked(p, availability(p.name()));
  }

  private static Backend openChecked(BackendProvider provider, Availability a) {
    if (!a.available()) {
      throw new BackendException(
          "backend '" + provider.name() + "' is unavailable: " + a.reason());
    }
    Backend backend;
    try {
      backend = provider.create();
    } catch (BackendException e) {
      throw e;
    } catch (RuntimeException | LinkageError e) {
      throw new BackendException("creating backend '" + provider.name() + "' failed", e);
    }
    if (backend == null) {
      throw new BackendException("provider of backend '" + provider.name() + "' returned null");
    }
    return backend;
  }

  /**
   * A diagnostic dump: runtime, selection settings, the chosen default, and every provider with
   * its priority, availability, error and (for available ones) capabilities. Creating a backend
   * to read its capabilities may load native libraries; use {@link #describe(boolean)} with
   * {@code false} to avoid that.
   *
   * @return a multi-line report
   */
  public String describe() {
    return describe(true);
  }

  /**
   * A diagnostic dump (see {@link #describe()}).
   *
   * @param probeCapabilities whether to create each available backend briefly to report its
   *     capabilities
   * @return a multi-line report
   */
  public String describe(boolean probeCapabilities) {
    StringBuilder sb = new StringBuilder();
    Runtime rt = Runtime.getRuntime();
    sb.append("Aphelion backends\n");
    sb.append("  java: ")
        .append(System.getProperty("java.version"))
        .append(" (")
        .append(System.getProperty("java.vm.name"))
        .append(")\n");
    sb.append("  os: ")
        .append(System.getProperty("os.name"))
        .append(' ')
        .append(System.getProperty("os.arch"))
        .append(", ")
        .append(rt.availableProcessors())
        .append(" processors, max heap ")
        .append(rt.maxMemory() / (1024 * 1024))
        .append(" MiB\n");
    sb.append("  -D").append(PROPERTY).append('=').append(properties.apply(PROPERTY)).append('\n');
    sb.append("  ").append(ENV).append('=').append(environment.apply(ENV)).append('\n');
    try {
      Selection sel = defaultSelection();
      sb.append("  default: ")
          .append(sel.provider().name())
          .append(" (by ")
          .append(sel.source().name().toLowerCase(Locale.ROOT).replace('_', ' '))
          .append(")\n");
    } catch (BackendException e) {
      sb.append("  default: none: ").append(e.getMessage()).append('\n');
    }
    sb.append("  providers:\n");
    for (ProviderInfo info : listing()) {
      sb.append("    ")
          .append(info.name())
          .append("  priority=")
          .append(info.priority() == Integer.MIN_VALUE ? "min" : Integer.toString(info.priority()))
          .append("  ")
          .append(info.availability())
          .append("  [")
          .append(info.className())
          .append("]\n");
      if (info.error() != null) {
        sb.append("      error: ").append(Availability.describe(info.error())).append('\n');
      }
      if (probeCapabilities && info.isUsable()) {
        try (Backend b = info.provider().create()) {
          sb.append("      device: ").append(b.capabilities().summary()).append('\n');
        } catch (RuntimeException | LinkageError e) {
          sb.append("      device: creation failed: ").append(Availability.describe(e)).append('\n');
        }
      }
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return "BackendRegistry" + names();
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  private static void rethrowIfFatal(Throwable t) {
    if (t instanceof VirtualMachineError v) {
      throw v;
    }
  }

  /** Builder for {@link BackendRegistry}. */
  public static final class Builder {
    private List<BackendProvider> providers;
    private ClassLoader classLoader;
    private UnaryOperator<String> properties = System::getProperty;
    private UnaryOperator<String> environment = System::getenv;

    private Builder() {}

    /**
     * Uses exactly these providers instead of {@link ServiceLoader} discovery.
     *
     * @param list the providers
     * @return this builder
     */
    public Builder providers(List<? extends BackendProvider> list) {
      this.providers = List.copyOf(list);
      return this;
    }

    /**
     * Discovers providers with {@link ServiceLoader} through this class loader.
     *
     * @param loader the class loader
     * @return this builder
     */
    public Builder classLoader(ClassLoader loader) {
      this.classLoader = Objects.requireNonNull(loader, "loader");
      return this;
    }

    /**
     * Sets the system-property lookup (default {@link System#getProperty(String)}).
     *
     * @param lookup maps a property name to its value or {@code null}
     * @return this builder
     */
    public Builder systemProperties(UnaryOperator<String> lookup) {
      this.properties = Objects.requireNonNull(lookup, "lookup");
      return this;
    }

    /**
     * Sets the environment lookup (default {@link System#getenv(String)}).
     *
     * @param lookup maps a variable name to its value or {@code null}
     * @return this builder
     */
    public Builder environment(UnaryOperator<String> lookup) {
      this.environment = Objects.requireNonNull(lookup, "lookup");
      return this;
    }

    /**
     * Discovers (unless providers were given) and builds the registry. Never fails because of a
     * broken provider.
     *
     * @return the registry
     */
    public BackendRegistry build() {
      List<Slot> slots = new ArrayList<>();
      if (providers != null) {
        for (BackendProvider p : providers) {
          slots.add(slotFor(p, p.getClass().getName()));
        }
      } else {
        discover(slots);
      }
      markDuplicates(slots);
      return new BackendRegistry(slots, properties, environment);
    }

    private void discover(List<Slot> slots) {
      ClassLoader loader = classLoader;
      if (loader == null) {
        loader = Thread.currentThread().getContextClassLoader();
      }
      if (loader == null) {
        loader = BackendRegistry.class.getClassLoader();
      }
      ServiceLoader<BackendProvider> sl = ServiceLoader.load(BackendProvider.class, loader);
      Iterator<ServiceLoader.Provider<BackendProvider>> it = sl.stream().iterator();
      // ServiceLoader skips past a provider that failed to load, so keep iterating; the bound
      // only guards against a loader that keeps failing on the same entry.
      for (int failures = 0; failures < 1000; ) {
        ServiceLoader.Provider<BackendProvider> handle;
        try {
          if (!it.hasNext()) {
            break;
          }
          handle = it.next();
        } catch (ServiceConfigurationError | LinkageError e) {
          failures++;
          String cls = classNameFrom(e);
          slots.add(new Slot(cls, cls, Integer.MIN_VALUE, null, e));
          continue;
        }
        String cls = handle.type().getName();
        BackendProvider p;
        try {
          p = handle.get();
        } catch (ServiceConfigurationError | RuntimeException | LinkageError e) {
          failures++;
          // ServiceLoader wraps a constructor's exception; the real cause stays chained.
          slots.add(new Slot(cls, cls, Integer.MIN_VALUE, null, e));
          continue;
        }
        slots.add(slotFor(p, cls));
      }
    }

    private static Slot slotFor(BackendProvider p, String cls) {
      String name;
      int priority;
      try {
        name = p.name();
        priority = p.priority();
        if (name == null || name.isBlank()) {
          throw new IllegalStateException("provider " + cls + " has a blank name");
        }
      } catch (RuntimeException | LinkageError e) {
        return new Slot(cls, cls, Integer.MIN_VALUE, null, e);
      }
      return new Slot(name, cls, priority, p, null);
    }

    private static void markDuplicates(List<Slot> slots) {
      Map<String, Slot> seen = new LinkedHashMap<>();
      for (int i = 0; i < slots.size(); i++) {
        Slot s = slots.get(i);
        if (s.provider == null) {
          continue;
        }
        Slot first = seen.putIfAbsent(s.name.toLowerCase(Locale.ROOT), s);
        if (first != null) {
          slots.set(
              i,
              new Slot(
                  s.name,
                  s.className,
                  Integer.MIN_VALUE,
                  null,
                  new BackendException(
                      "duplicate backend name '"
                          + s.name
                          + "' (already provided by "
                          + first.className
                          + "); this provider is ignored")));
        }
      }
    }

    private static String classNameFrom(Throwable e) {
      Matcher m = PROVIDER_IN_MESSAGE.matcher(String.valueOf(e.getMessage()));
      return m.find() ? m.group(1) : "?";
    }
  }
}
