package dev.aphelion.core.pipeline;

import dev.aphelion.core.backend.Backend;
import dev.aphelion.core.config.ModelConfig;
import dev.aphelion.core.error.BuildException;
import dev.aphelion.core.trace.TraceSink;
import dev.aphelion.core.trace.Tracer;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * What stages and hooks of one build share: the {@link Backend} in use, the model's {@link
 * ModelConfig} (if the build has one), the {@link Tracer}, and a typed, thread-safe attribute store
 * through which hooks and stages exchange objects (for example a gradient-compression hook
 * publishes its configured codec under a {@link ContextKey} and a training stage reads it).
 *
 * <p>The context does not own the backend: whoever created the backend closes it. A context may be
 * reused for several pipeline runs; its attributes persist between them.
 */
public final class BuildContext {
  private final Backend backend;
  private final ModelConfig config;
  private final Tracer tracer;
  private final ConcurrentHashMap<ContextKey<?>, Object> attributes;

  private BuildContext(
      Backend backend,
      ModelConfig config,
      Tracer tracer,
      ConcurrentHashMap<ContextKey<?>, Object> attributes) {
    this.backend = backend;
    this.config = config;
    this.tracer = tracer;
    this.attributes = attributes;
  }

  /**
   * A context with this backend, no config and a tracer that records nothing.
   *
   * @param backend the backend
   * @return the context
   */
  public static BuildContext of(Backend backend) {
    return builder(backend).build();
  }

  /**
   * Starts a builder.
   *
   * @param backend the backend the build uses
   * @return a new builder
   */
  public static Builder builder(Backend backend) {
    return new Builder(backend);
  }

  /**
   * The backend the build uses.
   *
   * @return the backend
   */
  public Backend backend() {
    return backend;
  }

  /**
   * The model configuration of the build, if one was given.
   *
   * @return the config, or empty
   */
  public Optional<ModelConfig> config() {
    return Optional.ofNullable(config);
  }

  /**
   * The tracer stages and hooks record to. During a pipeline run this tracer also feeds the run's
   * {@link PipelineResult#trace()}.
   *
   * @return the tracer
   */
  public Tracer tracer() {
    return tracer;
  }

  /**
   * The sink of {@link #tracer()}.
   *
   * @return the trace sink
   */
  public TraceSink traceSink() {
    return tracer.sink();
  }

  /**
   * A context with the same backend, config and attribute store (shared, not copied) but another
   * tracer. The pipeline uses it to collect the events of one run.
   *
   * @param other the tracer
   * @return the derived context
   */
  public BuildContext withTracer(Tracer other) {
    return new BuildContext(backend, config, Objects.requireNonNull(other, "tracer"), attributes);
  }

  /**
   * Stores a value, replacing any previous one.
   *
   * @param key the key
   * @param value the value, not {@code null}
   * @param <T> the value type
   * @return the previous value, or empty
   * @throws ClassCastException if the value is not of the key's type
   */
  public <T> Optional<T> put(ContextKey<T> key, T value) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, () -> "value for context key " + key);
    return Optional.ofNullable(attributes.put(key, key.cast(value))).map(key::cast);
  }

  /**
   * Stores a value unless one is present, atomically.
   *
   * @param key the key
   * @param supplier creates the value when absent; must not return {@code null}
   * @param <T> the value type
   * @return the present or the new value
   */
  public <T> T computeIfAbsent(ContextKey<T> key, Supplier<? extends T> supplier) {
    Objects.requireNonNull(key, "key");
    return key.cast(
        attributes.computeIfAbsent(
            key,
            k ->
                key.cast(
                    Objects.requireNonNull(
                        supplier.get(), () -> "supplier returned null for context key " + key))));
  }

  /**
   * Reads a value.
   *
   * @param key the key
   * @param <T> the value type
   * @return the value, or empty
   */
  public <T> Optional<T> get(ContextKey<T> key) {
    return Optional.ofNullable(attributes.get(Objects.requireNonNull(key, "key"))).map(key::cast);
  }

  /**
   * Reads a value that must be present.
   *
   * @param key the key
   * @param <T> the value type
   * @return the value
   * @throws BuildException if no value is stored under the key; the message names the key and the
   *     keys that are present
   */
  public <T> T require(ContextKey<T> key) {
    Object v = attributes.get(Objects.requireNonNull(key, "key"));
    if (v == null) {
      throw new BuildException(
          null, "no value for context key " + key + "; present keys: " + attributes.keySet(), null);
    }
    return key.cast(v);
  }

  /**
   * Whether a value is stored under the key.
   *
   * @param key the key
   * @return {@code true} if present
   */
  public boolean contains(ContextKey<?> key) {
    return attributes.containsKey(key);
  }

  /**
   * Removes a value.
   *
   * @param key the key
   * @param <T> the value type
   * @return the removed value, or empty
   */
  public <T> Optional<T> remove(ContextKey<T> key) {
    return Optional.ofNullable(attributes.remove(key)).map(key::cast);
  }

  /**
   * The keys that hold values now.
   *
   * @return an immutable snapshot
   */
  public Set<ContextKey<?>> keys() {
    return Set.copyOf(attributes.keySet());
  }

  /**
   * A snapshot of the attribute store.
   *
   * @return an immutable copy
   */
  public Map<ContextKey<?>, Object> attributes() {
    return Map.copyOf(attributes);
  }

  @Override
  public String toString() {
    return "BuildContext[backend="
        + backend.name()
        + ", config="
        + (config == null ? "none" : config.name())
        + ", trace="
        + tracer.traceId()
        + ", keys="
        + attributes.keySet()
        + "]";
  }

  /** Builder for {@link BuildContext}. */
  public static final class Builder {
    private final Backend backend;
    private ModelConfig config;
    private Tracer tracer;
    private final ConcurrentHashMap<ContextKey<?>, Object> attributes = new ConcurrentHashMap<>();

    private Builder(Backend backend) {
      this.backend = Objects.requireNonNull(backend, "backend");
    }

    /**
     * Sets the model configuration.
     *
     * @param config the config, or {@code null} for none
     * @return this builder
     */
    public Builder config(ModelConfig config) {
      this.config = config;
      return this;
    }

    /**
     * Sets the tracer (default: {@link Tracer#noop()}).
     *
     * @param tracer the tracer
     * @return this builder
     */
    public Builder tracer(Tracer tracer) {
      this.tracer = Objects.requireNonNull(tracer, "tracer");
      return this;
    }

    /**
     * Uses a new tracer over this sink.
     *
     * @param sink the sink
     * @return this builder
     */
    public Builder traceSink(TraceSink sink) {
      this.tracer = Tracer.create(sink);
      return this;
    }

    /**
     * Stores an initial attribute.
     *
     * @param key the key
     * @param value the value
     * @param <T> the value type
     * @return this builder
     */
    public <T> Builder put(ContextKey<T> key, T value) {
      attributes.put(
          Objects.requireNonNull(key, "key"), key.cast(Objects.requireNonNull(value, "value")));
      return this;
    }

    /**
     * Builds the context.
     *
     * @return the context
     */
    public BuildContext build() {
      return new BuildContext(
          backend, config, tracer != null ? tracer : Tracer.noop(), new ConcurrentHashMap<>(attributes));
    }
  }
}
