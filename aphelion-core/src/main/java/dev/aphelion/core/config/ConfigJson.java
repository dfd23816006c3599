package dev.aphelion.core.config;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import dev.aphelion.core.config.ConfigValue.BooleanValue;
import dev.aphelion.core.config.ConfigValue.DoubleValue;
import dev.aphelion.core.config.ConfigValue.ListValue;
import dev.aphelion.core.config.ConfigValue.LongValue;
import dev.aphelion.core.config.ConfigValue.MapValue;
import dev.aphelion.core.config.ConfigValue.NullValue;
import dev.aphelion.core.config.ConfigValue.StringValue;
import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.io.AtomicFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * JSON load and save for {@link ModelConfig}, with an exact round trip.
 *
 * <p>The document is {@code {"name": <string>, "version": <string>, "params": {<key>: <value>,
 * ...}}}; {@code params} may be omitted when empty. Integers (no fraction, no exponent) load as
 * {@code long}, anything with a fraction or exponent as {@code double}, so {@code 1} and {@code
 * 1.0} stay distinct. Doubles are written in the shortest form that reads back bit for bit (see
 * {@link RyuFormat}), so {@code load(save(c)).equals(c)} for every config.
 *
 * <p>The compact form is byte-for-byte what Rust's {@code serde_json::to_string} writes for the
 * Rust {@code ModelConfig} (keys sorted, no spaces, the same string escapes and float text); the
 * Rust-compatible hash feeds it to SHA-256 through {@link #writeCompact}. The pretty form matches
 * {@code serde_json::to_string_pretty} (two-space indent). Float text follows current serde_json
 * ({@link SerdeJsonFloats#DEFAULT}: {@code 1e+16}); the overloads taking a {@link
 * SerdeJsonFloats} reproduce serde_json 1.0.146 and earlier ({@code 1e16}) too. Both read back.
 *
 * <p>Loading rejects, with a {@link SerializationException} naming the JSON path: malformed JSON,
 * trailing content, duplicate keys, unknown top-level fields, missing name or version, integers
 * outside the {@code long} range and numbers outside the finite {@code double} range. A
 * well-formed document with an invalid value (such as a malformed version) gets a {@link
 * ConfigException}.
 */
public final class ConfigJson {
  private static final JsonFactory FACTORY = JsonFactory.builder().build();

  private ConfigJson() {}

  /**
   * The compact JSON text of a config (what Rust's {@code serde_json::to_string} writes).
   *
   * @param config the config
   * @return the JSON text
   */
  public static String toJson(ModelConfig config) {
    return toJson(config, SerdeJsonFloats.DEFAULT);
  }

  /**
   * The compact JSON text of a config with the float text of a given serde_json generation.
   *
   * @param config the config
   * @param floats which serde_json float text to write
   * @return the JSON text
   */
  public static String toJson(ModelConfig config, SerdeJsonFloats floats) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      new Writer(out, false, floats).config(config);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // ByteArrayOutputStream does not throw
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /**
   * The indented JSON text of a config (what Rust's {@code serde_json::to_string_pretty} writes).
   *
   * @param config the config
   * @return the JSON text
   */
  public static String toPrettyJson(ModelConfig config) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      new Writer(out, true, SerdeJsonFloats.DEFAULT).config(config);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /**
   * Streams the compact JSON of a config as UTF-8 into {@code out} without building a string.
   *
   * @param config the config
   * @param out where the bytes go (not closed)
   * @throws IOException if {@code out} fails
   */
  public static void writeCompact(ModelConfig config, OutputStream out) throws IOException {
    writeCompact(config, out, SerdeJsonFloats.DEFAULT);
  }

  /**
   * Streams the compact JSON of a config with the float text of a given serde_json generation.
   *
   * @param config the config
   * @param out where the bytes go (not closed)
   * @param floats which serde_json float text to write
   * @throws IOException if {@code out} fails
   */
  public static void writeCompact(ModelConfig config, OutputStream out, SerdeJsonFloats floats) throws IOException {
    new Writer(out, false, floats).config(config);
  }

  /**
   * The compact JSON of one value (a map's keys sorted).
   *
   * @param value the value
   * @return the JSON text
   */
  public static String toJson(ConfigValue value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      new Writer(out, false, SerdeJsonFloats.DEFAULT).value(value, 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /**
   * Saves a config as indented JSON (UTF-8, trailing newline), atomically: the file holds either
   * its previous content or the whole new document, also if the process dies mid-write (see
   * {@link AtomicFiles}).
   *
   * @param config the config
   * @param file the file to write (replaced if present)
   * @throws SerializationException if the file cannot be written
   */
  public static void save(ModelConfig config, Path file) {
    String json = toPrettyJson(config) + "\n";
    try {
      AtomicFiles.writeString(file, json);
    } catch (AphelionException e) {
      throw new SerializationException("cannot write config to " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Loads a config from a JSON file.
   *
   * @param file the file
   * @return the config
   * @throws SerializationException if the file cannot be read or is not a valid config document
   * @throws ConfigException if a value is invalid (for example a malformed version)
   */
  public static ModelConfig load(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return read(FACTORY.createParser(in), file.toString());
    } catch (JsonProcessingException e) {
      throw new SerializationException("malformed JSON in " + file + ": " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new SerializationException("cannot read config from " + file + ": " + e, e);
    }
  }

  /**
   * Parses a config from JSON text.
   *
   * @param json the JSON text
   * @return the config
   * @throws SerializationException if the text is not a valid config document
   * @throws ConfigException if a value is invalid (for example a malformed version)
   */
  public static ModelConfig fromJson(String json) {
    if (json == null) {
      throw new SerializationException("config JSON must not be null");
    }
    try (JsonParser p = FACTORY.createParser(json)) {
      return read(p, "config JSON");
    } catch (JsonProcessingException e) {
      throw new SerializationException("malformed config JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new SerializationException("cannot parse config JSON: " + e, e);
    }
  }

  /**
   * Parses one JSON value (any of the {@link ConfigValue} kinds).
   *
   * @param json the JSON text
   * @return the value
   * @throws SerializationException if the text is not one valid JSON value
   */
  public static ConfigValue valueFromJson(String json) {
    try (JsonParser p = FACTORY.createParser(json)) {
      JsonToken t = p.nextToken();
      if (t == null) {
        throw new SerializationException("empty JSON text");
      }
      ConfigValue v = readValue(p, t, "$", 0);
      requireEnd(p, "JSON value");
      return v;
    } catch (JsonProcessingException e) {
      throw new SerializationException("malformed JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new SerializationException("cannot parse JSON: " + e, e);
    }
  }

  private static ModelConfig read(JsonParser p, String source) throws IOException {
    if (p.nextToken() != JsonToken.START_OBJECT) {
      throw new SerializationException(source + ": expected a JSON object at the top level");
    }
    String name = null;
    String version = null;
    Map<String, ConfigValue> params = Map.of();
    boolean seenParams = false;
    JsonToken t;
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken vt = p.nextToken();
      switch (field) {
        case "name" -> {
          if (name != null) {
            throw duplicate(source, "name");
          }
          name = requireString(p, vt, source, "name");
        }
        case "version" -> {
          if (version != null) {
            throw duplicate(source, "version");
          }
          version = requireString(p, vt, source, "version");
        }
        case "params" -> {
          if (seenParams) {
            throw duplicate(source, "params");
          }
          seenParams = true;
          if (vt != JsonToken.START_OBJECT) {
            throw new SerializationException(
                source + ": 'params' must be a JSON object, found " + describe(vt));
          }
          // Level 1: params is itself a map (see ConfigValue.MAX_DEPTH).
          params = readEntries(p, "params", 1);
        }
        default ->
            throw new SerializationException(
                source
                    + ": unknown field '"
                    + field
                    + "' (a config has only name, version and params)");
      }
    }
    if (t != JsonToken.END_OBJECT) {
      throw new SerializationException(source + ": unexpected " + describe(t));
    }
    if (name == null || version == null) {
      throw new SerializationException(
          source + ": missing field '" + (name == null ? "name" : "version") + "'");
    }
    requireEnd(p, source);
    return ModelConfig.builder(name, version).params(params).build();
  }

  private static SerializationException duplicate(String source, String key) {
    return new SerializationException(source + ": duplicate key '" + key + "'");
  }

  private static void requireEnd(JsonParser p, String source) throws IOException {
    JsonToken extra = p.nextToken();
    if (extra != null) {
      throw new SerializationException(
          source + ": trailing content after the JSON document: " + describe(extra));
    }
  }

  private static String requireString(JsonParser p, JsonToken t, String source, String field)
      throws IOException {
    if (t != JsonToken.VALUE_STRING) {
      throw new SerializationException(
          source + ": '" + field + "' must be a string, found " + describe(t));
    }
    return p.getText();
  }

  /**
   * Reads one value; {@code level} counts the lists and maps around it inside the value being
   * read, so that nesting beyond {@link ConfigValue#MAX_DEPTH} is refused before it recurses.
   */
  private static ConfigValue readValue(JsonParser p, JsonToken t, String path, int level) throws IOException {
    switch (t) {
      case VALUE_NUMBER_INT -> {
        JsonParser.NumberType type = p.getNumberType();
        if (type == JsonParser.NumberType.BIG_INTEGER) {
          throw new SerializationException(
              path + ": integer " + p.getText() + " is outside the 64-bit signed range");
        }
        return new LongValue(p.getLongValue());
      }
      case VALUE_NUMBER_FLOAT -> {
        String text = p.getText();
        double d = Double.parseDouble(text);
        if (!Double.isFinite(d)) {
          throw new SerializationException(
              path + ": number " + text + " is outside the finite double range");
        }
        return new DoubleValue(d);
      }
      case VALUE_STRING -> {
        String s = p.getText();
        if (!Utf8.isWellFormed(s)) {
          throw new SerializationException(path + ": string has an unpaired surrogate escape");
        }
        return new StringValue(s);
      }
      case VALUE_TRUE -> {
        return new BooleanValue(true);
      }
      case VALUE_FALSE -> {
        return new BooleanValue(false);
      }
      case VALUE_NULL -> {
        return ConfigValue.NULL;
      }
      case START_ARRAY -> {
        checkLevel(path, level);
        List<ConfigValue> items = new ArrayList<>();
        JsonToken e;
        while ((e = p.nextToken()) != JsonToken.END_ARRAY) {
          if (e == null) {
            throw new SerializationException(path + ": unterminated array");
          }
          items.add(readValue(p, e, path + "[" + items.size() + "]", level + 1));
        }
        return new ListValue(items);
      }
      case START_OBJECT -> {
        checkLevel(path, level);
        return new MapValue(readEntries(p, path, level + 1));
      }
      default -> throw new SerializationException(path + ": unexpected " + describe(t));
    }
  }

  private static void checkLevel(String path, int level) {
    if (level >= ConfigValue.MAX_DEPTH) {
      throw new SerializationException(path + ": lists and maps nest deeper than " + ConfigValue.MAX_DEPTH + " levels");
    }
  }

  /** Reads an object's entries after its '{'; the values are read at {@code level}. */
  private static TreeMap<String, ConfigValue> readEntries(JsonParser p, String path, int level) throws IOException {
    TreeMap<String, ConfigValue> map = new TreeMap<>(Utf8.ORDER);
    JsonToken e;
    while ((e = p.nextToken()) == JsonToken.FIELD_NAME) {
      String key = p.currentName();
      if (!Utf8.isWellFormed(key)) {
        throw new SerializationException(path + ": key has an unpaired surrogate escape");
      }
      String childPath = path + "." + key;
      if (map.containsKey(key)) {
        throw new SerializationException(path + ": duplicate key '" + key + "'");
      }
      map.put(key, readValue(p, p.nextToken(), childPath, level));
    }
    if (e != JsonToken.END_OBJECT) {
      throw new SerializationException(path + ": unexpected " + describe(e));
    }
    return map;
  }

  private static String describe(JsonToken t) {
    return t == null ? "end of input" : t.asString() != null ? "'" + t.asString() + "'" : t.name();
  }

  /** Streams serde_json-compatible JSON; keeps its own small buffer to avoid per-byte calls. */
  private static final class Writer {
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private final OutputStream out;
    private final boolean pretty;
    private final SerdeJsonFloats floats;

    Writer(OutputStream out, boolean pretty, SerdeJsonFloats floats) {
      this.out = out;
      this.pretty = pretty;
      this.floats = java.util.Objects.requireNonNull(floats, "floats");
    }

    void config(ModelConfig c) throws IOException {
      out.write('{');
      newline(1);
      string("name");
      colon();
      string(c.name());
      out.write(',');
      newline(1);
      string("version");
      colon();
      string(c.versionText());
      out.write(',');
      newline(1);
      string("params");
      colon();
      map(c.params(), 1);
      newline(0);
      out.write('}');
    }

    void value(ConfigValue v, int depth) throws IOException {
      switch (v) {
        case LongValue(long l) -> ascii(Long.toString(l));
        case DoubleValue(double d) -> ascii(RyuFormat.format(d, floats));
        case BooleanValue(boolean b) -> ascii(b ? "true" : "false");
        case StringValue(String s) -> string(s);
        case NullValue n -> ascii("null");
        case ListValue(List<ConfigValue> items) -> {
          out.write('[');
          if (!items.isEmpty()) {
            for (int i = 0; i < items.size(); i++) {
              if (i > 0) {
                out.write(',');
              }
              newline(depth + 1);
              value(items.get(i), depth + 1);
            }
            newline(depth);
          }
          out.write(']');
        }
        case MapValue(var entries) -> map(entries, depth);
      }
    }

    private void map(Map<String, ConfigValue> entries, int depth) throws IOException {
      out.write('{');
      if (!entries.isEmpty()) {
        boolean first = true;
        for (Map.Entry<String, ConfigValue> e : entries.entrySet()) {
          if (!first) {
            out.write(',');
          }
          first = false;
          newline(depth + 1);
          string(e.getKey());
          colon();
          value(e.getValue(), depth + 1);
        }
        newline(depth);
      }
      out.write('}');
    }

    private void colon() throws IOException {
      out.write(':');
      if (pretty) {
        out.write(' ');
      }
    }

    private void newline(int depth) throws IOException {
      if (pretty) {
        out.write('\n');
        for (int i = 0; i < depth; i++) {
          out.write(' ');
          out.write(' ');
        }
      }
    }

    private void ascii(String s) throws IOException {
      for (int i = 0; i < s.length(); i++) {
        out.write(s.charAt(i));
      }
    }

    /** serde_json escaping: quote, backslash and C0 controls; everything else raw UTF-8. */
    private void string(String s) throws IOException {
      out.write('"');
      int n = s.length();
      for (int i = 0; i < n; i++) {
        char c = s.charAt(i);
        if (c < 0x80) {
          switch (c) {
            case '"' -> {
              out.write('\\');
              out.write('"');
            }
            case '\\' -> {
              out.write('\\');
              out.write('\\');
            }
            case '\b' -> {
              out.write('\\');
              out.write('b');
            }
            case '\f' -> {
              out.write('\\');
              out.write('f');
            }
            case '\n' -> {
              out.write('\\');
              out.write('n');
            }
            case '\r' -> {
              out.write('\\');
              out.write('r');
            }
            case '\t' -> {
              out.write('\\');
              out.write('t');
            }
            default -> {
              if (c < 0x20) {
                out.write('\\');
                out.write('u');
                out.write('0');
                out.write('0');
                out.write(HEX[c >> 4]);
                out.write(HEX[c & 0xF]);
              } else {
                out.write(c);
              }
            }
          }
        } else if (c < 0x800) {
          out.write(0xC0 | (c >> 6));
          out.write(0x80 | (c & 0x3F));
        } else if (Character.isHighSurrogate(c) && i + 1 < n) {
          int cp = Character.toCodePoint(c, s.charAt(++i));
          out.write(0xF0 | (cp >> 18));
          out.write(0x80 | ((cp >> 12) & 0x3F));
          out.write(0x80 | ((cp >> 6) & 0x3F));
          out.write(0x80 | (cp & 0x3F));
        } else {
          out.write(0xE0 | (c >> 12));
          out.write(0x80 | ((c >> 6) & 0x3F));
          out.write(0x80 | (c & 0x3F));
        }
      }
      out.write('"');
    }
  }
}
