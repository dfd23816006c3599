package dev.aphelion.core.config;

import dev.aphelion.core.error.ConfigException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A typed configuration value: the closed set of JSON-like values that config params, nested
 * maps and graph/node attributes may hold.
 *
 * <p>Integers ({@link LongValue}) and floating-point numbers ({@link DoubleValue}) are distinct:
 * {@code 1} and {@code 1.0} are different values, print differently and hash differently. Doubles
 * must be finite. Maps are sorted by {@link Utf8#ORDER}. {@link NullValue} exists because JSON
 * (and the Rust original) allows {@code null}; the typed getters never return it.
 *
 * <p>All implementations are immutable and compare by value; {@link DoubleValue} compares bit
 * patterns, so {@code 0.0} and {@code -0.0} differ (they also print differently).
 *
 * <p>Lists and maps nest at most {@link #MAX_DEPTH} deep, checked when they are built, so that
 * writing, parsing and hashing (all recursive) never overflow the stack, and every value that can
 * be built can be saved and loaded again.
 */
public sealed interface ConfigValue
    permits ConfigValue.LongValue,
        ConfigValue.DoubleValue,
        ConfigValue.BooleanValue,
        ConfigValue.StringValue,
        ConfigValue.ListValue,
        ConfigValue.MapValue,
        ConfigValue.NullValue {

  /**
   * The type name used in error messages: {@code long}, {@code double}, {@code boolean}, {@code
   * string}, {@code list}, {@code map} or {@code null}.
   *
   * @return the type name
   */
  String typeName();

  /**
   * The deepest nesting of lists and maps a value may have: a scalar has depth 0, {@code []} and
   * {@code {}} depth 1, {@code [[1]]} depth 2. Config params and node and graph attributes are
   * held as maps too, so a param or attribute value nests at most {@code MAX_DEPTH - 1} deep. A
   * config document adds one more level (its top object), so it stays inside the 128 levels that
   * Rust's {@code serde_json} parses.
   */
  int MAX_DEPTH = 100;

  /**
   * The nesting depth of a value (see {@link #MAX_DEPTH}).
   *
   * @param value the value
   * @return 0 for a scalar, otherwise 1 + the depth of the deepest element
   */
  static int depth(ConfigValue value) {
    // Bounded recursion: every list or map was checked against MAX_DEPTH when it was built.
    return switch (value) {
      case ListValue(var items) -> {
        int d = 0;
        for (ConfigValue v : items) {
          d = Math.max(d, depth(v));
        }
        yield d + 1;
      }
      case MapValue(var entries) -> {
        int d = 0;
        for (ConfigValue v : entries.values()) {
          d = Math.max(d, depth(v));
        }
        yield d + 1;
      }
      default -> 0;
    };
  }

  /**
   * A 64-bit signed integer.
   *
   * @param value the integer
   */
  record LongValue(long value) implements ConfigValue {
    @Override
    public String typeName() {
      return "long";
    }

    @Override
    public String toString() {
      return Long.toString(value);
    }
  }

  /**
   * A finite IEEE-754 double.
   *
   * @param value the number; never NaN or infinite
   */
  record DoubleValue(double value) implements ConfigValue {
    /**
     * Creates the value.
     *
     * @param value the number
     * @throws ConfigException if {@code value} is NaN or infinite
     */
    public DoubleValue {
      if (!Double.isFinite(value)) {
        throw new ConfigException(
            "double value " + value + " is not allowed: config numbers must be finite");
      }
    }

    @Override
    public String typeName() {
      return "double";
    }

    @Override
    public String toString() {
      return RyuFormat.format(value);
    }
  }

  /**
   * A boolean.
   *
   * @param value the boolean
   */
  record BooleanValue(boolean value) implements ConfigValue {
    @Override
    public String typeName() {
      return "boolean";
    }

    @Override
    public String toString() {
      return Boolean.toString(value);
    }
  }

  /**
   * A string; must be well-formed UTF-16 (no unpaired surrogates).
   *
   * @param value the string
   */
  record StringValue(String value) implements ConfigValue {
    /**
     * Creates the value.
     *
     * @param value the string
     * @throws ConfigException if {@code value} is null or has an unpaired surrogate
     */
    public StringValue {
      requireText(value, "string value");
    }

    @Override
    public String typeName() {
      return "string";
    }

    @Override
    public String toString() {
      return '"' + value + '"';
    }
  }

  /**
   * An immutable list of values (use {@link NullValue} for JSON nulls, never {@code null}).
   *
   * @param values the elements
   */
  record ListValue(List<ConfigValue> values) implements ConfigValue {
    /**
     * Creates the value, copying the list.
     *
     * @param values the elements
     * @throws ConfigException if the list or an element is {@code null}, or the list would nest
     *     deeper than {@link #MAX_DEPTH}
     */
    public ListValue {
      if (values == null) {
        throw new ConfigException("list value must not be null");
      }
      for (int i = 0; i < values.size(); i++) {
        if (values.get(i) == null) {
          throw new ConfigException("list element " + i + " is null; use ConfigValue.NULL");
        }
      }
      values = List.copyOf(values);
      checkDepth(values);
    }

    @Override
    public String typeName() {
      return "list";
    }

    @Override
    public String toString() {
      return values.toString();
    }
  }

  /**
   * An immutable map sorted by {@link Utf8#ORDER}.
   *
   * @param values the entries
   */
  record MapValue(SortedMap<String, ConfigValue> values) implements ConfigValue {
    /**
     * Creates the value, copying the entries into a map sorted by {@link Utf8#ORDER}.
     *
     * @param values the entries
     * @throws ConfigException if a key or value is {@code null}, a key is malformed, or the map
     *     would nest deeper than {@link #MAX_DEPTH}
     */
    public MapValue {
      values = sortedCopy(values, "map");
      checkDepth(values.values());
    }

    @Override
    public String typeName() {
      return "map";
    }

    @Override
    public String toString() {
      return values.toString();
    }
  }

  /** The JSON {@code null}. Use {@link ConfigValue#NULL}. */
  enum NullValue implements ConfigValue {
    /** The single instance. */
    INSTANCE;

    @Override
    public String typeName() {
      return "null";
    }

    @Override
    public String toString() {
      return "null";
    }
  }

  /** The JSON {@code null} value. */
  ConfigValue NULL = NullValue.INSTANCE;

  /**
   * An integer value.
   *
   * @param value the integer
   * @return the value
   */
  static ConfigValue of(long value) {
    return new LongValue(value);
  }

  /**
   * A floating-point value.
   *
   * @param value a finite double
   * @return the value
   * @throws ConfigException if NaN or infinite
   */
  static ConfigValue of(double value) {
    return new DoubleValue(value);
  }

  /**
   * A boolean value.
   *
   * @param value the boolean
   * @return the value
   */
  static ConfigValue of(boolean value) {
    return new BooleanValue(value);
  }

  /**
   * A string value.
   *
   * @param value the string
   * @return the value
   */
  static ConfigValue of(String value) {
    return new StringValue(value);
  }

  /**
   * A list value.
   *
   * @param values the elements
   * @return the value
   */
  static ConfigValue ofList(List<? extends ConfigValue> values) {
    return new ListValue(values == null ? null : new ArrayList<>(values));
  }

  /**
   * A list value.
   *
   * @param values the elements
   * @return the value
   */
  static ConfigValue ofList(ConfigValue... values) {
    return new ListValue(List.of(values));
  }

  /**
   * A map value; the entries are copied and sorted.
   *
   * @param values the entries
   * @return the value
   */
  static ConfigValue ofMap(Map<String, ? extends ConfigValue> values) {
    return new MapValue(sortedCopy(values, "map"));
  }

  /**
   * Converts a plain Java object: {@code Byte/Short/Integer/Long} to long, {@code Float/Double}
   * to double, {@code Boolean}, {@code CharSequence}, {@code List} (recursively), {@code Map}
   * with string keys (recursively), {@code null} to {@link #NULL}; a {@code ConfigValue} is
   * returned as is.
   *
   * @param value the object
   * @return the value
   * @throws ConfigException for any other type, a non-finite float, or nesting deeper than
   *     {@link #MAX_DEPTH}
   */
  static ConfigValue from(Object value) {
    return from(value, 0);
  }

  private static ConfigValue from(Object value, int depth) {
    if (depth > MAX_DEPTH) {
      // Also ends a list or map that contains itself.
      throw new ConfigException("cannot convert a value nested deeper than " + MAX_DEPTH + " lists or maps (or one that contains itself)");
    }
    return switch (value) {
      case null -> NULL;
      case ConfigValue v -> v;
      case Long l -> of(l.longValue());
      case Integer i -> of(i.longValue());
      case Short s -> of(s.longValue());
      case Byte b -> of(b.longValue());
      case Double d -> of(d.doubleValue());
      case Float f -> of(f.doubleValue());
      case Boolean b -> of(b.booleanValue());
      case CharSequence s -> of(s.toString());
      case List<?> list -> {
        List<ConfigValue> out = new ArrayList<>(list.size());
        for (Object o : list) {
          out.add(from(o, depth + 1));
        }
        yield new ListValue(out);
      }
      case Map<?, ?> map -> {
        TreeMap<String, ConfigValue> out = new TreeMap<>(Utf8.ORDER);
        for (Map.Entry<?, ?> e : map.entrySet()) {
          if (!(e.getKey() instanceof String key)) {
            throw new ConfigException("map keys must be strings, got " + e.getKey());
          }
          out.put(key, from(e.getValue(), depth + 1));
        }
        yield new MapValue(out);
      }
      default ->
          throw new ConfigException(
              "cannot convert " + value.getClass().getName() + " to a config value");
    };
  }

  /**
   * Copies {@code values} into an unmodifiable map sorted by {@link Utf8#ORDER}, checking keys
   * and values.
   *
   * @param values the entries
   * @param what what the map is, for error messages
   * @return the sorted, unmodifiable copy
   */
  private static SortedMap<String, ConfigValue> sortedCopy(
      Map<String, ? extends ConfigValue> values, String what) {
    if (values == null) {
      throw new ConfigException(what + " must not be null");
    }
    if (values.isEmpty()) {
      return EmptyMaps.SORTED; // shared: most nodes and many configs have no entries
    }
    TreeMap<String, ConfigValue> copy = new TreeMap<>(Utf8.ORDER);
    for (Map.Entry<String, ? extends ConfigValue> e : values.entrySet()) {
      requireText(e.getKey(), what + " key");
      if (e.getValue() == null) {
        throw new ConfigException(
            what + " entry " + Utf8.quote(e.getKey()) + " is null; use ConfigValue.NULL");
      }
      copy.put(e.getKey(), e.getValue());
    }
    return Collections.unmodifiableSortedMap(copy);
  }

  private static void checkDepth(java.util.Collection<ConfigValue> children) {
    for (ConfigValue c : children) {
      if ((c instanceof ListValue || c instanceof MapValue) && depth(c) >= MAX_DEPTH) {
        throw new ConfigException("config value nests lists and maps deeper than " + MAX_DEPTH + " levels");
      }
    }
  }

  private static void requireText(String s, String what) {
    if (s == null) {
      throw new ConfigException(what + " must not be null");
    }
    if (!Utf8.isWellFormed(s)) {
      throw new ConfigException(what + " " + Utf8.quote(s) + " contains an unpaired surrogate");
    }
  }
}
