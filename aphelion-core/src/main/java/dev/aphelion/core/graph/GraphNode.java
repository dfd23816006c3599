package dev.aphelion.core.graph;

import dev.aphelion.core.config.ConfigValue;
import dev.aphelion.core.config.ConfigValue.MapValue;
import dev.aphelion.core.config.ModelConfig;
import dev.aphelion.core.config.Utf8;
import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.GraphException;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One operation of a {@link BuildGraph}: a unique id, an op type ({@code "linear"}, {@code
 * "ternary_linear"}, {@code "relu"}, {@code "attention"}, ...), its {@link ModelConfig} and
 * attributes sorted by key.
 *
 * <p>Attributes hold the same typed values as config params. All of them count in {@link
 * dev.aphelion.core.hash.GraphDigest} except keys that start with {@value #META_PREFIX}, which
 * are for annotations that must not change a graph's identity (source locations, comments,
 * timings).
 *
 * @param id the node id: non-empty, unique within a graph
 * @param opType the operation type: non-empty
 * @param config the node's configuration
 * @param attributes the attributes, unmodifiable, sorted by {@link Utf8#ORDER}
 */
public record GraphNode(
    String id, String opType, ModelConfig config, SortedMap<String, ConfigValue> attributes) {

  /** Attribute keys with this prefix are annotations: ignored by {@code GraphDigest}. */
  public static final String META_PREFIX = "meta.";

  /**
   * Creates a node, copying and sorting the attributes.
   *
   * @throws GraphException if the id or op type is null, empty or malformed, or the config or an
   *     attribute is null
   */
  public GraphNode {
    requireName(id, "node id");
    requireName(opType, "op type of node '" + id + "'");
    if (config == null) {
      throw new GraphException("node '" + id + "' has no config");
    }
    if (attributes == null) {
      throw new GraphException("node '" + id + "': attributes must not be null");
    }
    try {
      attributes = ((MapValue) ConfigValue.ofMap(attributes)).values();
    } catch (ConfigException e) {
      throw new GraphException("node '" + id + "': bad attribute: " + e.getMessage(), e);
    }
  }

  /**
   * A node with no attributes.
   *
   * @param id the node id
   * @param opType the op type
   * @param config the config
   * @return the node
   */
  public static GraphNode of(String id, String opType, ModelConfig config) {
    return new GraphNode(id, opType, config, new TreeMap<>());
  }

  /**
   * Starts a builder. The config defaults to {@link #defaultConfig(String)}.
   *
   * @param id the node id
   * @param opType the op type
   * @return the builder
   */
  public static Builder builder(String id, String opType) {
    return new Builder(id, opType);
  }

  /**
   * The config a node gets when none is given: named after the op type, version {@code 0.0.0},
   * no params.
   *
   * @param opType the op type
   * @return the config
   */
  public static ModelConfig defaultConfig(String opType) {
    requireName(opType, "op type");
    ModelConfig cached = DEFAULT_CONFIGS.get(opType);
    if (cached == null) {
      cached = ModelConfig.of(opType, "0.0.0");
      // Op types are few; the bound only guards against callers inventing one per node.
      if (DEFAULT_CONFIGS.size() < 1024) {
        DEFAULT_CONFIGS.putIfAbsent(opType, cached);
      }
    }
    return cached;
  }

  /** Immutable default configs by op type, so that graphs of config-less nodes share them. */
  private static final java.util.concurrent.ConcurrentHashMap<String, ModelConfig> DEFAULT_CONFIGS =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** A builder initialized with this node, to derive a modified copy. */
  public Builder toBuilder() {
    Builder b = new Builder(id, opType).config(config);
    b.attributes.putAll(attributes);
    return b;
  }

  /**
   * A copy with one attribute set.
   *
   * @param key the attribute key
   * @param value the value
   * @return the new node
   */
  public GraphNode withAttribute(String key, ConfigValue value) {
    return toBuilder().attribute(key, value).build();
  }

  /**
   * A copy with another config.
   *
   * @param newConfig the config
   * @return the new node
   */
  public GraphNode withConfig(ModelConfig newConfig) {
    return new GraphNode(id, opType, newConfig, attributes);
  }

  /**
   * One attribute.
   *
   * @param key the attribute key
   * @return the value, or empty when absent
   */
  public Optional<ConfigValue> attribute(String key) {
    return Optional.ofNullable(attributes.get(key));
  }

  static void requireName(String s, String what) {
    if (s == null || s.isEmpty()) {
      throw new GraphException(what + " must be a non-empty string, got " + (s == null ? "null" : "''"));
    }
    if (!Utf8.isWellFormed(s)) {
      throw new GraphException(what + " '" + s + "' contains an unpaired surrogate");
    }
  }

  /** Builds a {@link GraphNode}. */
  public static final class Builder {
    private final String id;
    private String opType;
    private ModelConfig config;
    private final TreeMap<String, ConfigValue> attributes = new TreeMap<>(Utf8.ORDER);

    private Builder(String id, String opType) {
      this.id = id;
      this.opType = opType;
    }

    /**
     * Sets the op type.
     *
     * @param opType the op type
     * @return this builder
     */
    public Builder opType(String opType) {
      this.opType = opType;
      return this;
    }

    /**
     * Sets the config.
     *
     * @param config the config
     * @return this builder
     */
    public Builder config(ModelConfig config) {
      this.config = config;
      return this;
    }

    /**
     * Sets an attribute.
     *
     * @param key the key
     * @param value the value
     * @return this builder
     */
    public Builder attribute(String key, ConfigValue value) {
      if (key == null || value == null) {
        throw new GraphException("node '" + id + "': attribute key and value must not be null");
      }
      attributes.put(key, value);
      return this;
    }

    /**
     * Sets a long attribute.
     *
     * @param key the key
     * @param value the value
     * @return this builder
     */
    public Builder attribute(String key, long value) {
      return attribute(key, ConfigValue.of(value));
    }

    /**
     * Sets a double attribute.
     *
     * @param key the key
     * @param value a finite value
     * @return this builder
     */
    public Builder attribute(String key, double value) {
      try {
        return attribute(key, ConfigValue.of(value));
      } catch (ConfigException e) {
        throw new GraphException("node '" + id + "': attribute '" + key + "': " + e.getMessage(), e);
      }
    }

    /**
     * Sets a boolean attribute.
     *
     * @param key the key
     * @param value the value
     * @return this builder
     */
    public Builder attribute(String key, boolean value) {
      return attribute(key, ConfigValue.of(value));
    }

    /**
     * Sets a string attribute.
     *
     * @param key the key
     * @param value the value
     * @return this builder
     */
    public Builder attribute(String key, String value) {
      return attribute(key, ConfigValue.of(value));
    }

    /**
     * Removes an attribute if present.
     *
     * @param key the key
     * @return this builder
     */
    public Builder removeAttribute(String key) {
      attributes.remove(key);
      return this;
    }

    /**
     * Builds the node.
     *
     * @return the node
     */
    public GraphNode build() {
      return new GraphNode(id, opType, config == null && opType != null ? defaultConfig(opType) : config, attributes);
    }
  }
}
