package dev.aphelion.core.config;

import dev.aphelion.core.config.ConfigValue.DoubleValue;
import dev.aphelion.core.config.ConfigValue.LongValue;
import dev.aphelion.core.config.ConfigValue.StringValue;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** Ready-made {@link ConfigValidator}s for common rules. */
public final class ConfigValidators {
  private ConfigValidators() {}

  /**
   * The param must be present.
   *
   * @param key the param key
   * @return the validator
   */
  public static ConfigValidator required(String key) {
    return c -> c.has(key) ? List.of() : List.of("param '" + key + "' is required but missing");
  }

  /**
   * If present, the param must be a long in {@code [min, max]}.
   *
   * @param key the param key
   * @param min the smallest allowed value
   * @param max the largest allowed value
   * @return the validator
   */
  public static ConfigValidator longInRange(String key, long min, long max) {
    return c -> {
      ConfigValue v = c.params().get(key);
      if (v == null) {
        return List.of();
      }
      if (!(v instanceof LongValue(long l))) {
        return List.of("param '" + key + "' has type " + v.typeName() + ", expected long");
      }
      return l >= min && l <= max
          ? List.of()
          : List.of("param '" + key + "' = " + l + " is outside [" + min + ", " + max + "]");
    };
  }

  /**
   * If present, the param must be a number (double, or a long) in {@code [min, max)} or {@code
   * [min, max]}.
   *
   * @param key the param key
   * @param min the smallest allowed value
   * @param max the upper bound
   * @param maxInclusive whether {@code max} itself is allowed
   * @return the validator
   */
  public static ConfigValidator doubleInRange(
      String key, double min, double max, boolean maxInclusive) {
    return c -> {
      ConfigValue v = c.params().get(key);
      if (v == null) {
        return List.of();
      }
      double d;
      if (v instanceof DoubleValue(double x)) {
        d = x;
      } else if (v instanceof LongValue(long l)) {
        d = l;
      } else {
        return List.of("param '" + key + "' has type " + v.typeName() + ", expected double");
      }
      boolean ok = d >= min && (maxInclusive ? d <= max : d < max);
      return ok
          ? List.of()
          : List.of(
              "param '"
                  + key
                  + "' = "
                  + v
                  + " is outside ["
                  + min
                  + ", "
                  + max
                  + (maxInclusive ? "]" : ")"));
    };
  }

  /**
   * If present, the param must be one of the given strings.
   *
   * @param key the param key
   * @param allowed the allowed values
   * @return the validator
   */
  public static ConfigValidator oneOf(String key, Set<String> allowed) {
    Set<String> sorted = new TreeSet<>(allowed);
    return c -> {
      ConfigValue v = c.params().get(key);
      if (v == null) {
        return List.of();
      }
      if (!(v instanceof StringValue(String s))) {
        return List.of("param '" + key + "' has type " + v.typeName() + ", expected string");
      }
      return sorted.contains(s)
          ? List.of()
          : List.of("param '" + key + "' = '" + s + "' is not one of " + sorted);
    };
  }

  /**
   * The rules for the preset keys: {@code hidden_size} and {@code num_layers} required and
   * positive, {@code dropout} in {@code [0, 1)}, {@code activation} one of relu, gelu, silu,
   * tanh, sigmoid, identity.
   *
   * @return the composite validator
   */
  public static CompositeValidator standard() {
    return ConfigValidator.all(
        required(ModelConfigs.HIDDEN_SIZE),
        required(ModelConfigs.NUM_LAYERS),
        longInRange(ModelConfigs.HIDDEN_SIZE, 1, Integer.MAX_VALUE),
        longInRange(ModelConfigs.NUM_LAYERS, 1, 10_000),
        doubleInRange(ModelConfigs.DROPOUT, 0.0, 1.0, false),
        oneOf(
            ModelConfigs.ACTIVATION, Set.of("relu", "gelu", "silu", "tanh", "sigmoid", "identity")));
  }
}
