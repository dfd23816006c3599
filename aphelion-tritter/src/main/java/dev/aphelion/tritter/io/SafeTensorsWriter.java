package dev.aphelion.tritter.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aphelion.core.config.Utf8;
import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.core.io.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Collects tensors and writes them as one safetensors file: an 8-byte little-endian header length,
 * a JSON header (tensor entries in insertion order, then {@code __metadata__}) padded with spaces
 * to a multiple of 8 bytes, and the tensors' bytes back to back in the same order.
 *
 * <p>The file is written atomically ({@link AtomicFiles}: a uniquely named temporary sibling,
 * forced to disk and renamed into place), so a crash never leaves a truncated checkpoint under the
 * final name and two writers to one path each produce a whole file. The writer refuses what its
 * reader would: byte sizes that overflow, names or metadata with unpaired surrogates (which UTF-8
 * cannot encode), and headers over the reader's limit.
 */
public final class SafeTensorsWriter {

  private static final ObjectMapper JSON = new ObjectMapper();

  private record Entry(DType dtype, long[] shape, byte[] data) {}

  private final Map<String, Entry> entries = new LinkedHashMap<>();
  private final Map<String, String> metadata = new TreeMap<>();

  /** Creates an empty writer. */
  public SafeTensorsWriter() {}

  /**
   * Adds a tensor from raw little-endian bytes.
   *
   * @param name a unique tensor name (not {@code __metadata__})
   * @param dtype the element type
   * @param shape the dimensions
   * @param data exactly {@code product(shape) * dtype.byteSize()} bytes; copied
   * @return this writer
   * @throws ShapeException if the byte count does not match the shape or overflows
   * @throws SerializationException if the name is taken, reserved or has an unpaired surrogate
   */
  public SafeTensorsWriter add(String name, DType dtype, long[] shape, byte[] data) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dtype, "dtype");
    requireWellFormed("tensor name", name);
    if (name.equals("__metadata__")) {
      throw new SerializationException("'__metadata__' is reserved and cannot name a tensor");
    }
    if (entries.containsKey(name)) {
      throw new SerializationException("tensor '" + name + "' was already added");
    }
    for (long d : shape) {
      if (d < 0) {
        throw new ShapeException("tensor '" + name + "' has a negative dimension in " + Arrays.toString(shape));
      }
    }
    long bytes = byteSize(name, shape, dtype);
    if (bytes != data.length) {
      throw new ShapeException("tensor '" + name + "': shape " + Arrays.toString(shape) + " of " + dtype + " needs "
          + bytes + " bytes, got " + data.length);
    }
    entries.put(name, new Entry(dtype, shape.clone(), data.clone()));
    return this;
  }

  /**
   * Adds a float tensor, stored as F32, F16 or BF16 (narrowing with round-to-nearest-even).
   *
   * @param name a unique tensor name
   * @param dtype {@link DType#F32}, {@link DType#F16} or {@link DType#BF16}
   * @param shape the dimensions
   * @param values {@code product(shape)} values in row-major order
   * @return this writer
   * @throws ShapeException if the value count does not match the shape
   */
  public SafeTensorsWriter addFloats(String name, DType dtype, long[] shape, float[] values) {
    if (!dtype.isFloatConvertible()) {
      throw new SerializationException("tensor '" + name + "': cannot store floats as " + dtype + " (use F32, F16 or BF16)");
    }
    long n = byteSize(name, shape, dtype) / dtype.byteSize();
    if (n != values.length) {
      throw new ShapeException("tensor '" + name + "': shape " + Arrays.toString(shape) + " has " + n + " elements, got " + values.length + " values");
    }
    if ((long) values.length * dtype.byteSize() > Integer.MAX_VALUE - 8) {
      throw new ShapeException("tensor '" + name + "': " + values.length + " values of " + dtype + " exceed one byte[]");
    }
    ByteBuffer buf = ByteBuffer.allocate(values.length * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    switch (dtype) {
      case F32 -> buf.asFloatBuffer().put(values);
      case F16 -> {
        for (float v : values) {
          buf.putShort(Float16.floatToF16(v));
        }
      }
      case BF16 -> {
        for (float v : values) {
          buf.putShort(Float16.floatToBf16(v));
        }
      }
      default -> throw new AssertionError(dtype);
    }
    return add(name, dtype, shape, buf.array());
  }

  /** Elements times element size, refusing the overflow that the reader would reject. */
  private static long byteSize(String name, long[] shape, DType dtype) {
    try {
      long n = 1;
      for (long d : shape) {
        n = Math.multiplyExact(n, Math.max(d, 0));
      }
      return Math.multiplyExact(n, dtype.byteSize());
    } catch (ArithmeticException e) {
      throw new ShapeException("tensor '" + name + "': shape " + Arrays.toString(shape) + " of " + dtype
          + " has more than " + Long.MAX_VALUE + " bytes", e);
    }
  }

  private static void requireWellFormed(String what, String s) {
    if (!Utf8.isWellFormed(s)) {
      throw new SerializationException(what + " '" + s + "' has an unpaired surrogate, which UTF-8 cannot encode");
    }
  }

  /** Adds an F32 tensor; shorthand for {@code addFloats(name, DType.F32, shape, values)}. */
  public SafeTensorsWriter addF32(String name, long[] shape, float[] values) {
    return addFloats(name, DType.F32, shape, values);
  }

  /**
   * Sets one {@code __metadata__} entry.
   *
   * @param key the key
   * @param value the value
   * @return this writer
   * @throws SerializationException if the key or value has an unpaired surrogate
   */
  public SafeTensorsWriter metadata(String key, String value) {
    requireWellFormed("metadata key", Objects.requireNonNull(key, "key"));
    requireWellFormed("metadata value of '" + key + "'", Objects.requireNonNull(value, "value"));
    metadata.put(key, value);
    return this;
  }

  /** The names added so far, in order. */
  public List<String> names() {
    return new ArrayList<>(entries.keySet());
  }

  /**
   * Writes the file (atomically replacing an existing one).
   *
   * @param path the destination
   * @throws SerializationException if the header exceeds the reader's 100 MB limit
   * @throws AphelionException with {@link ErrorCode#IO} if writing fails
   */
  public void write(Path path) {
    ObjectNode header = JsonNodeFactory.instance.objectNode();
    long offset = 0;
    for (Map.Entry<String, Entry> e : entries.entrySet()) {
      ObjectNode t = header.putObject(e.getKey());
      t.put("dtype", e.getValue().dtype.name());
      ArrayNode shape = t.putArray("shape");
      for (long d : e.getValue().shape) {
        shape.add(d);
      }
      ArrayNode offs = t.putArray("data_offsets");
      offs.add(offset);
      offset += e.getValue().data.length;
      offs.add(offset);
    }
    if (!metadata.isEmpty()) {
      ObjectNode meta = header.putObject("__metadata__");
      metadata.forEach(meta::put);
    }
    byte[] json;
    try {
      json = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new SerializationException("cannot encode safetensors header: " + e.getMessage(), e);
    }
    // Pad with spaces so that the data section starts 8-byte aligned, as the reference writer does.
    int padded = (json.length + 7) & ~7;
    byte[] headerBytes = Arrays.copyOf(json, padded);
    Arrays.fill(headerBytes, json.length, padded, (byte) ' ');
    if (padded > SafeTensorsFile.MAX_HEADER_BYTES) {
      throw new SerializationException("safetensors header of " + padded + " bytes exceeds the "
          + SafeTensorsFile.MAX_HEADER_BYTES + "-byte limit of readers (too many tensors or too much metadata)");
    }
    AtomicFiles.write(path, out -> {
      out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
      out.write(headerBytes);
      for (Entry e : entries.values()) {
        out.write(e.data);
      }
    });
  }
}
