package dev.aphelion.tritter.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.error.ShapeException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
 * <p>The file is written to a temporary sibling and moved into place, so a crash never leaves a
 * truncated checkpoint under the final name.
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
   * @throws ShapeException if the byte count does not match the shape
   * @throws SerializationException if the name is taken or reserved
   */
  public SafeTensorsWriter add(String name, DType dtype, long[] shape, byte[] data) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dtype, "dtype");
    if (name.equals("__metadata__")) {
      throw new SerializationException("'__metadata__' is reserved and cannot name a tensor");
    }
    if (entries.containsKey(name)) {
      throw new SerializationException("tensor '" + name + "' was already added");
    }
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new ShapeException("tensor '" + name + "' has a negative dimension in " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    if (n * dtype.byteSize() != data.length) {
      throw new ShapeException("tensor '" + name + "': shape " + Arrays.toString(shape) + " of " + dtype + " needs "
          + n * dtype.byteSize() + " bytes, got " + data.length);
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
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, Math.max(d, 0));
    }
    if (n != values.length) {
      throw new ShapeException("tensor '" + name + "': shape " + Arrays.toString(shape) + " has " + n + " elements, got " + values.length + " values");
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

  /** Adds an F32 tensor; shorthand for {@code addFloats(name, DType.F32, shape, values)}. */
  public SafeTensorsWriter addF32(String name, long[] shape, float[] values) {
    return addFloats(name, DType.F32, shape, values);
  }

  /**
   * Sets one {@code __metadata__} entry.
   *
   * @return this writer
   */
  public SafeTensorsWriter metadata(String key, String value) {
    metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
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
    Path abs = path.toAbsolutePath();
    Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
    try (OutputStream out = Files.newOutputStream(tmp)) {
      out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
      out.write(headerBytes);
      for (Entry e : entries.values()) {
        out.write(e.data);
      }
    } catch (IOException e) {
      throw new AphelionException(ErrorCode.IO, "cannot write safetensors file " + path + ": " + e.getMessage(), e);
    }
    try {
      Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      try {
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
      } catch (IOException e2) {
        throw new AphelionException(ErrorCode.IO, "cannot move " + tmp + " to " + path + ": " + e2.getMessage(), e2);
      }
    }
  }
}
