package dev.aphelion.core.pipeline;

import java.util.Objects;

/**
 * A typed key of the {@link BuildContext} attribute store. Two keys are the same key when their
 * names and types are equal, so a key may be declared as a constant in one module and re-created
 * in another. By convention names are dotted and start with the owning module, for example {@code
 * "tritter.gradient.compressor"}.
 *
 * <pre>{@code
 * public static final ContextKey<GradientCodec> CODEC =
 *     ContextKey.of("tritter.gradient.codec", GradientCodec.class);
 * ctx.put(CODEC, codec);          // in a hook
 * GradientCodec c = ctx.require(CODEC); // in a stage
 * }</pre>
 *
 * @param name the key's name, non-blank
 * @param type the type of the values stored under it
 * @param <T> the value type
 */
public record ContextKey<T>(String name, Class<T> type) {

  /** Checks the name and type. */
  public ContextKey {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    if (name.isBlank()) {
      throw new IllegalArgumentException("context key name must not be blank");
    }
  }

  /**
   * Creates a key.
   *
   * @param name the key's name
   * @param type the value type
   * @param <T> the value type
   * @return the key
   */
  public static <T> ContextKey<T> of(String name, Class<T> type) {
    return new ContextKey<>(name, type);
  }

  /**
   * Checks that a value may be stored under this key and returns it typed.
   *
   * @param value the value
   * @return the value, cast
   * @throws ClassCastException if the value is not a {@code T}
   */
  public T cast(Object value) {
    return type.cast(value);
  }

  @Override
  public String toString() {
    return name + " (" + type.getSimpleName() + ")";
  }
}
