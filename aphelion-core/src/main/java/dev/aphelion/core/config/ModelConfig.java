package dev.aphelion.core.config;

import dev.aphelion.core.config.ConfigValue.BooleanValue;
import dev.aphelion.core.config.ConfigValue.DoubleValue;
import dev.aphelion.core.config.ConfigValue.ListValue;
import dev.aphelion.core.config.ConfigValue.LongValue;
import dev.aphelion.core.config.ConfigValue.MapValue;
import dev.aphelion.core.config.ConfigValue.StringValue;
import dev.aphelion.core.error.ConfigException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * An immutable model configuration: a name, a semantic version and typed params sorted by key.
 *
 * <p><b>Versions.</b> The version is parsed with {@link SemanticVersion#parseLenient}: strict
 * SemVer 2.0.0, except that a missing minor or patch is read as zero ({@code "1.0"} is version
 * 1.0.0). The original text is kept unchanged as {@link #versionText()}: it is what JSON saves,
 * what {@link #equals} compares and what both hashes encode, because the Rust original treats
 * versions as free strings and hashes them verbatim (its test vector V5 uses {@code "1.0"}).
 * So {@code "1.0"} and {@code "1.0.0"} have equal {@link #version()} but are different configs.
 *
 * <p><b>Typed getters.</b> {@link #getLong}, {@link #getDouble}, ... throw a {@link
 * ConfigException} naming the config, the key, the expected type and the actual type. {@link
 * #getDouble} also accepts a long param whose value a double represents exactly (|v| &lt;=
 * 2<sup>53</sup>), as serde does in Rust; no other conversion happens. The {@code ...OrDefault}
 * variants return the default only when the key is absent; a present param of the wrong type is
 * still an error.
 */
public final class ModelConfig {
  private final String name;
  private final String versionText;
  private final SemanticVersion version;
  private final SortedMap<String, ConfigValue> params;

  private ModelConfig(Builder b) {
    if (b.name == null) {
      throw new ConfigException("config name must not be null");
    }
    if (!Utf8.isWellFormed(b.name)) {
      throw new ConfigException("config name " + Utf8.quote(b.name) + " has an unpaired surrogate");
    }
    this.name = b.name;
    try {
      this.version = SemanticVersion.parseLenient(b.version);
    } catch (ConfigException e) {
      throw new ConfigException("config " + Utf8.quote(b.name) + ": " + e.getMessage(), e);
    }
    this.versionText = b.version;
    this.params = ((MapValue) ConfigValue.ofMap(b.params)).values();
  }

  /**
   * Starts a builder.
   *
   * @param name the config name (any well-formed string)
   * @param version the version text, see the class comment
   * @return a new builder
   */
  public static Builder builder(String name, String version) {
    return new Builder(name, version);
  }

  /**
   * A config with no params.
   *
   * @param name the config name
   * @param version the version text
   * @return the config
   * @throws ConfigException if the version is malformed
   */
  public static ModelConfig of(String name, String version) {
    return builder(name, version).build();
  }

  /** A builder holding this config's name, version and params, to derive a modified copy. */
  public Builder toBuilder() {
    Builder b = new Builder(name, versionText);
    b.params.putAll(params);
    return b;
  }

  /**
   * A copy with one param set (added or replaced).
   *
   * @param key the param key
   * @param value the value
   * @return the new config
   */
  public ModelConfig withParam(String key, ConfigValue value) {
    return toBuilder().param(key, value).build();
  }

  /** The config name. */
  public String name() {
    return name;
  }

  /** The parsed version. */
  public SemanticVersion version() {
    return version;
  }

  /** The version exactly as given; what JSON saves and what the hashes encode. */
  public String versionText() {
    return versionText;
  }

  /** All params, unmodifiable, sorted by {@link Utf8#ORDER}. */
  public SortedMap<String, ConfigValue> params() {
    return params;
  }

  /**
   * Whether a param is present.
   *
   * @param key the param key
   * @return {@code true} if present
   */
  public boolean has(String key) {
    return params.containsKey(key);
  }

  /**
   * The raw value of a param.
   *
   * @param key the param key
   * @return the value, or empty if absent
   */
  public Optional<ConfigValue> get(String key) {
    return Optional.ofNullable(params.get(key));
  }

  /**
   * A long param.
   *
   * @param key the param key
   * @return its value
   * @throws ConfigException if absent or not a long
   */
  public long getLong(String key) {
    return asLong(key, require(key, "long"));
  }

  /**
   * A long param, or a default when absent.
   *
   * @param key the param key
   * @param defaultValue returned when the key is absent
   * @return the value or the default
   * @throws ConfigException if present but not a long
   */
  public long getLongOrDefault(String key, long defaultValue) {
    ConfigValue v = params.get(key);
    return v == null ? defaultValue : asLong(key, v);
  }

  /**
   * A double param (a long param is accepted when exactly representable, see the class comment).
   *
   * @param key the param key
   * @return its value
   * @throws ConfigException if absent or not a number
   */
  public double getDouble(String key) {
    return asDouble(key, require(key, "double"));
  }

  /**
   * A double param, or a default when absent.
   *
   * @param key the param key
   * @param defaultValue returned when the key is absent
   * @return the value or the default
   * @throws ConfigException if present but not a number
   */
  public double getDoubleOrDefault(String key, double defaultValue) {
    ConfigValue v = params.get(key);
    return v == null ? defaultValue : asDouble(key, v);
  }

  /**
   * A boolean param.
   *
   * @param key the param key
   * @return its value
   * @throws ConfigException if absent or not a boolean
   */
  public boolean getBoolean(String key) {
    return asBoolean(key, require(key, "boolean"));
  }

  /**
   * A boolean param, or a default when absent.
   *
   * @param key the param key
   * @param defaultValue returned when the key is absent
   * @return the value or the default
   * @throws ConfigException if present but not a boolean
   */
  public boolean getBooleanOrDefault(String key, boolean defaultValue) {
    ConfigValue v = params.get(key);
    return v == null ? defaultValue : asBoolean(key, v);
  }

  /**
   * A string param.
   *
   * @param key the param key
   * @return its value
   * @throws ConfigException if absent or not a string
   */
  public String getString(String key) {
    return asString(key, require(key, "string"));
  }

  /**
   * A string param, or a default when absent.
   *
   * @param key the param key
   * @param defaultValue returned when the key is absent
   * @return the value or the default
   * @throws ConfigException if present but not a string
   */
  public String getStringOrDefault(String key, String defaultValue) {
    ConfigValue v = params.get(key);
    return v == null ? defaultValue : asString(key, v);
  }

  /**
   * A list param.
   *
   * @param key the param key
   * @return its elements, unmodifiable
   * @throws ConfigException if absent or not a list
   */
  public List<ConfigValue> getList(String key) {
    return asList(key, require(key, "list"));
  }

  /**
   * A list param, or a default when absent.
   *
   * @param key the param key
   * @param defaultValue returned when the key is absent
   * @return the elements or the default
   * @throws ConfigException if present but not a list
   */
  public List<ConfigValue> getListOrDefault(String key, List<ConfigValue> defaultValue) {
    ConfigValue v = params.get(key);
    return v == null ? defaultValue : asList(key, v);
  }

  /**
   * A map param.
   *
   * @param key the param key
   * @return its entries, unmodifiable and sorted
   * @throws ConfigException if absent or not a map
   */
  public SortedMap<String, ConfigValue> getMap(String key) {
    return asMap(key, require(key, "map"));
  }

  /**
   * A map param, or a default when absent.
   *
   * @param key the param key
   * @param defaultValue returned when the key is absent
   * @return the entries or the default
   * @throws ConfigException if present but not a map
   */
  public SortedMap<String, ConfigValue> getMapOrDefault(
      String key, SortedMap<String, ConfigValue> defaultValue) {
    ConfigValue v = params.get(key);
    return v == null ? defaultValue : asMap(key, v);
  }

  private ConfigValue require(String key, String expected) {
    ConfigValue v = params.get(key);
    if (v == null) {
      throw new ConfigException(
          "config "
              + Utf8.quote(name)
              + ": missing param '"
              + key
              + "' (expected "
              + expected
              + "); present keys: "
              + params.keySet());
    }
    return v;
  }

  private ConfigException wrongType(String key, String expected, ConfigValue actual) {
    return new ConfigException(
        "config "
            + Utf8.quote(name)
            + ": param '"
            + key
            + "' has type "
            + actual.typeName()
            + " (value "
            + actual
            + "), expected "
            + expected);
  }

  private long asLong(String key, ConfigValue v) {
    if (v instanceof LongValue(long value)) {
      return value;
    }
    throw wrongType(key, "long", v);
  }

  private double asDouble(String key, ConfigValue v) {
    if (v instanceof DoubleValue(double value)) {
      return value;
    }
    if (v instanceof LongValue(long value) && Math.abs(value) <= (1L << 53)) {
      return value;
    }
    throw wrongType(key, "double", v);
  }

  private boolean asBoolean(String key, ConfigValue v) {
    if (v instanceof BooleanValue(boolean value)) {
      return value;
    }
    throw wrongType(key, "boolean", v);
  }

  private String asString(String key, ConfigValue v) {
    if (v instanceof StringValue(String value)) {
      return value;
    }
    throw wrongType(key, "string", v);
  }

  private List<ConfigValue> asList(String key, ConfigValue v) {
    if (v instanceof ListValue(List<ConfigValue> values)) {
      return values;
    }
    throw wrongType(key, "list", v);
  }

  private SortedMap<String, ConfigValue> asMap(String key, ConfigValue v) {
    if (v instanceof MapValue(SortedMap<String, ConfigValue> values)) {
      return values;
    }
    throw wrongType(key, "map", v);
  }

  /** Equal when name, version text and params are equal. */
  @Override
  public boolean equals(Object o) {
    return o instanceof ModelConfig c
        && name.equals(c.name)
        && versionText.equals(c.versionText)
        && params.equals(c.params);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, versionText, params);
  }

  /** The compact JSON form, see {@link ConfigJson#toJson(ModelConfig)}. */
  @Override
  public String toString() {
    return ConfigJson.toJson(this);
  }

  /** Builds a {@link ModelConfig}; params may be set in any order, they are sorted on build. */
  public static final class Builder {
    private String name;
    private String version;
    private final TreeMap<String, ConfigValue> params = new TreeMap<>(Utf8.ORDER);

    private Builder(String name, String version) {
      this.name = name;
      this.version = version;
    }

    /**
     * Sets the name.
     *
     * @param name the config name
     * @return this builder
     */
    public Builder name(String name) {
      this.name = name;
      return this;
    }

    /**
     * Sets the version text.
     *
     * @param version the version text
     * @return this builder
     */
    public Builder version(String version) {
      this.version = version;
      return this;
    }

    /**
     * Sets a param.
     *
     * @param key the key
     * @param value the value
     * @return this builder
     */
    public Builder param(String key, ConfigValue value) {
      if (key == null) {
        throw new ConfigException("param key must not be null");
      }
      if (value == null) {
        throw new ConfigException("param '" + key + "' is null; use ConfigValue.NULL");
      }
      params.put(key, value);
      return this;
    }

    /**
     * Sets a long param.
     *
     * @param key the key
     * @param value the value
     * @return this builder
     */
    public Builder param(String key, long value) {
      return param(key, ConfigValue.of(value));
    }

    /**
     * Sets a double param.
     *
     * @param key the key
     * @param value a finite value
     * @return this builder
     * @throws ConfigException naming the key if the value is NaN or infinite
     */
    public Builder param(String key, double value) {
      if (!Double.isFinite(value)) {
        throw new ConfigException(
            "param '" + key + "' = " + value + " is not allowed: config numbers must be finite");
      }
      return param(key, ConfigValue.of(value));
    }

    /**
     * Sets a boolean param.
     *
     * @param key the key
     * @param value the value
     * @return this builder
     */
    public Builder param(String key, boolean value) {
      return param(key, ConfigValue.of(value));
    }

    /**
     * Sets a string param.
     *
     * @param key the key
     * @param value the value
     * @return this builder
     */
    public Builder param(String key, String value) {
      return param(key, ConfigValue.of(value));
    }

    /**
     * Sets every entry of a map as a param.
     *
     * @param values the params to set
     * @return this builder
     */
    public Builder params(Map<String, ? extends ConfigValue> values) {
      values.forEach(this::param);
      return this;
    }

    /**
     * Removes a param if present.
     *
     * @param key the key
     * @return this builder
     */
    public Builder remove(String key) {
      params.remove(key);
      return this;
    }

    /**
     * Builds the config.
     *
     * @return the immutable config
     * @throws ConfigException if the name is null or the version is malformed
     */
    public ModelConfig build() {
      return new ModelConfig(this);
    }
  }
}
