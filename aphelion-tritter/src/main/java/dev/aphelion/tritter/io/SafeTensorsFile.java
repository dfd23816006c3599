package dev.aphelion.tritter.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.aphelion.core.config.Utf8;
import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.error.ShapeException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A safetensors file opened for reading. The data section is memory-mapped (a {@link
 * MemorySegment} in a shared {@link Arena}), so opening a multi-gigabyte checkpoint costs only
 * the header; tensors are copied to the heap only when asked for. Closing the file unmaps it;
 * segments handed out before become inaccessible.
 *
 * <p>The header is validated completely on open, as strictly as the reference implementation: its
 * length, that it is well-formed UTF-8 (no replacement of bad bytes, no unpaired surrogate
 * escapes) starting with an opening brace, its JSON, every dtype, integer shape and offset pair,
 * that the byte length matches the shape, that tensors neither overlap nor leave holes
 * (as the format requires) and that the data section is exactly covered. Any violation is a {@link
 * SerializationException} naming the tensor and the problem.
 *
 * <p>If another process truncates the file while it is mapped, the copying reads ({@link #floats},
 * {@link #bytes}) throw a {@link SerializationException} saying so instead of the JVM's {@code
 * InternalError}; a {@link #segment} handed out before cannot be protected that way.
 *
 * <p>Instances are safe for concurrent reads; {@link #close()} must not race with reads.
 */
public final class SafeTensorsFile implements AutoCloseable {

  /** Refuse headers above this size (the reference implementation uses the same 100 MB limit). */
  static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();
  private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private final Path path;
  private final Arena arena;
  private final MemorySegment data;
  private final Map<String, TensorInfo> tensors;
  private final Map<String, String> metadata;

  private SafeTensorsFile(Path path, Arena arena, MemorySegment data, Map<String, TensorInfo> tensors, Map<String, String> metadata) {
    this.path = path;
    this.arena = arena;
    this.data = data;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /**
   * Opens and validates a safetensors file.
   *
   * @param path the file
   * @return the open file; close it to unmap
   * @throws SerializationException if the file is truncated or its header is malformed
   * @throws AphelionException with {@link ErrorCode#IO} if the file cannot be read
   */
  public static SafeTensorsFile open(Path path) {
    Objects.requireNonNull(path, "path");
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < 8) {
        throw new SerializationException(path + ": truncated safetensors file: " + size + " bytes, the 8-byte header length is missing");
      }
      ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lenBuf, 0);
      long headerLen = lenBuf.getLong(0);
      if (headerLen < 2 || headerLen > MAX_HEADER_BYTES) {
        throw new SerializationException(path + ": header length " + Long.toUnsignedString(headerLen) + " is outside [2, " + MAX_HEADER_BYTES + "]");
      }
      if (8 + headerLen > size) {
        throw new SerializationException(path + ": truncated safetensors file: header says " + headerLen + " header bytes but the file has only " + (size - 8) + " after the length");
      }
      ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
      readFully(ch, headerBuf, 8);
      long dataLen = size - 8 - headerLen;
      Header header = parseHeader(path, headerBuf.array(), dataLen);
      Arena arena = Arena.ofShared();
      try {
        MemorySegment seg = dataLen == 0 ? MemorySegment.ofArray(new byte[0]) : ch.map(FileChannel.MapMode.READ_ONLY, 8 + headerLen, dataLen, arena);
        return new SafeTensorsFile(path, arena, seg, header.tensors, header.metadata);
      } catch (IOException | RuntimeException e) {
        arena.close();
        throw e;
      }
    } catch (IOException e) {
      throw new AphelionException(ErrorCode.IO, "cannot read safetensors file " + path + ": " + e.getMessage(), e);
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos + buf.position());
      if (n < 0) {
        throw new SerializationException("unexpected end of file while reading the safetensors header");
      }
    }
  }

  private record Header(Map<String, TensorInfo> tensors, Map<String, String> metadata) {}

  static Header parseHeader(Path path, byte[] headerBytes, long dataLen) {
    String text;
    try {
      // Strict decoding: a lenient one would turn bad bytes into U+FFFD and so rename tensors.
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(headerBytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new SerializationException(path + ": safetensors header is not valid UTF-8 (" + e + ")", e);
    }
    if (text.charAt(0) != '{') {
      throw new SerializationException(path + ": safetensors header must start with '{', found " + describeChar(text.charAt(0)));
    }
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new SerializationException(path + ": safetensors header is not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new SerializationException(path + ": safetensors header must be a JSON object");
    }
    Map<String, TensorInfo> tensors = new LinkedHashMap<>();
    Map<String, String> metadata = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String name = e.getKey();
      JsonNode v = e.getValue();
      if (name.equals("__metadata__")) {
        if (!v.isObject()) {
          throw new SerializationException(path + ": __metadata__ must be an object of strings");
        }
        for (Iterator<Map.Entry<String, JsonNode>> m = v.fields(); m.hasNext(); ) {
          Map.Entry<String, JsonNode> kv = m.next();
          if (!kv.getValue().isTextual()) {
            throw new SerializationException(path + ": __metadata__ value for '" + kv.getKey() + "' is not a string");
          }
          requireWellFormed(path, "__metadata__ key", kv.getKey());
          requireWellFormed(path, "__metadata__ value of '" + kv.getKey() + "'", kv.getValue().textValue());
          metadata.put(kv.getKey(), kv.getValue().textValue());
        }
        continue;
      }
      requireWellFormed(path, "tensor name", name);
      tensors.put(name, parseTensor(path, name, v));
    }
    // Offsets must tile [0, dataLen) exactly: sorted by begin, each starting where the last ended.
    List<TensorInfo> sorted = new ArrayList<>(tensors.values());
    sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
    long expected = 0;
    String previous = null;
    for (TensorInfo t : sorted) {
      if (t.end() > dataLen) {
        throw new SerializationException(path + ": tensor '" + t.name() + "' data_offsets [" + t.begin() + ", " + t.end()
            + "] run past the data section of " + dataLen + " bytes (truncated file?)");
      }
      if (t.begin() < expected) {
        throw new SerializationException(path + ": tensor '" + t.name() + "' data_offsets [" + t.begin() + ", " + t.end()
            + "] overlap tensor '" + previous + "' which ends at " + expected);
      }
      if (t.begin() > expected) {
        throw new SerializationException(path + ": hole in the data section: bytes [" + expected + ", " + t.begin() + ") before tensor '" + t.name() + "' belong to no tensor");
      }
      expected = t.end();
      previous = t.name();
    }
    if (expected != dataLen) {
      throw new SerializationException(path + ": data section has " + dataLen + " bytes but the tensors cover only " + expected);
    }
    return new Header(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
  }

  private static TensorInfo parseTensor(Path path, String name, JsonNode v) {
    if (!v.isObject()) {
      throw new SerializationException(path + ": entry for tensor '" + name + "' is not an object");
    }
    JsonNode dtype = v.get("dtype");
    JsonNode shape = v.get("shape");
    JsonNode offsets = v.get("data_offsets");
    if (dtype == null || !dtype.isTextual()) {
      throw new SerializationException(path + ": tensor '" + name + "' has no string 'dtype'");
    }
    if (shape == null || !shape.isArray()) {
      throw new SerializationException(path + ": tensor '" + name + "' has no 'shape' array");
    }
    if (offsets == null || !offsets.isArray() || offsets.size() != 2) {
      throw new SerializationException(path + ": tensor '" + name + "' needs 'data_offsets' as [begin, end]");
    }
    long[] dims = new long[shape.size()];
    for (int i = 0; i < dims.length; i++) {
      JsonNode d = shape.get(i);
      // Integers only: the reference rejects 2.0 as a dimension, and so do we.
      if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
        throw new SerializationException(path + ": tensor '" + name + "' has a bad dimension " + d + " in its shape");
      }
      dims[i] = d.asLong();
    }
    for (JsonNode o : offsets) {
      if (!o.isIntegralNumber() || !o.canConvertToLong() || o.asLong() < 0) {
        throw new SerializationException(path + ": tensor '" + name + "' has a bad data offset " + o);
      }
    }
    try {
      return new TensorInfo(name, DType.parse(dtype.textValue(), name), dims, offsets.get(0).asLong(), offsets.get(1).asLong());
    } catch (ArithmeticException e) {
      throw new SerializationException(path + ": tensor '" + name + "' shape " + Arrays.toString(dims) + " overflows", e);
    } catch (SerializationException e) {
      throw new SerializationException(path + ": " + e.getMessage().replaceFirst("^\\[[A-Z-]+\\] ", ""), e);
    }
  }

  private static void requireWellFormed(Path path, String what, String s) {
    if (!Utf8.isWellFormed(s)) {
      throw new SerializationException(path + ": " + what + " '" + s.replaceAll("[\\uD800-\\uDFFF]", "\\\\u?") + "' has an unpaired surrogate escape");
    }
  }

  private static String describeChar(char c) {
    return c >= 0x20 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
  }

  /** The file this was opened from. */
  public Path path() {
    return path;
  }

  /** Tensor names in header order. */
  public List<String> names() {
    return List.copyOf(tensors.keySet());
  }

  /** Whether a tensor of this name exists. */
  public boolean contains(String name) {
    return tensors.containsKey(name);
  }

  /** The header's {@code __metadata__} map (empty if absent). */
  public Map<String, String> metadata() {
    return metadata;
  }

  /**
   * The header entry of a tensor.
   *
   * @throws SerializationException naming the tensor and the file if it is missing
   */
  public TensorInfo info(String name) {
    TensorInfo t = tensors.get(name);
    if (t == null) {
      throw new SerializationException(path + ": missing tensor '" + name + "' (the file has " + tensors.size() + " tensors" + nearby(name) + ")");
    }
    return t;
  }

  private String nearby(String name) {
    int dot = name.lastIndexOf('.');
    String prefix = dot > 0 ? name.substring(0, dot) : name;
    List<String> similar = tensors.keySet().stream().filter(n -> n.startsWith(prefix)).limit(5).toList();
    return similar.isEmpty() ? "" : ", similar: " + similar;
  }

  /**
   * The raw bytes of a tensor as a read-only slice of the mapping; valid until {@link #close()}.
   *
   * @throws SerializationException if the tensor is missing
   */
  public MemorySegment segment(String name) {
    ensureOpen();
    TensorInfo t = info(name);
    return data.asSlice(t.begin(), t.byteLength()).asReadOnly();
  }

  /**
   * Checks that a tensor has the expected shape.
   *
   * @param name the tensor
   * @param expected the expected dimensions
   * @return the header entry
   * @throws ShapeException naming both shapes if they differ
   */
  public TensorInfo requireShape(String name, long... expected) {
    TensorInfo t = info(name);
    if (!Arrays.equals(t.shape(), expected)) {
      throw new ShapeException(path + ": tensor '" + name + "' has shape " + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(expected));
    }
    return t;
  }

  /**
   * Copies a floating-point tensor to a new {@code float[]}, widening F16 and BF16.
   *
   * @param name the tensor
   * @return its elements in row-major order
   * @throws SerializationException if it is missing, not F32/F16/BF16, or too large for an array
   */
  public float[] floats(String name) {
    ensureOpen();
    TensorInfo t = info(name);
    long n = t.elementCount();
    if (n > Integer.MAX_VALUE - 8) {
      throw new SerializationException(path + ": tensor '" + name + "' has " + n + " elements, too many for one float[]");
    }
    MemorySegment s = data.asSlice(t.begin(), t.byteLength());
    float[] out = new float[(int) n];
    try {
      convert(t, s, out);
    } catch (InternalError e) {
      throw truncatedWhileMapped(name, e);
    }
    return out;
  }

  private void convert(TensorInfo t, MemorySegment s, float[] out) {
    switch (t.dtype()) {
      case F32 -> MemorySegment.copy(s, F32_LE, 0, out, 0, out.length);
      case F16 -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = Float.float16ToFloat(s.getAtIndex(I16_LE, i));
        }
      }
      case BF16 -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = Float16.bf16ToFloat(s.getAtIndex(I16_LE, i));
        }
      }
      case F8_E4M3 -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = e4m3ToFloat(s.get(ValueLayout.JAVA_BYTE, i));
        }
      }
      case F8_E5M2 -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = Float.float16ToFloat((short) (s.get(ValueLayout.JAVA_BYTE, i) << 8));
        }
      }
      default -> throw new SerializationException(path + ": tensor '" + t.name() + "' has dtype " + t.dtype()
          + ", expected F32, F16, BF16, F8_E4M3 or F8_E5M2");
    }
  }

  /** OCP FP8 E4M3FN: bias 7, subnormals, no infinities, S.1111.111 is NaN. */
  static float e4m3ToFloat(byte b) {
    int sign = (b & 0x80) != 0 ? -1 : 1;
    int e = (b >>> 3) & 0xF;
    int m = b & 0x7;
    if (e == 0xF && m == 0x7) {
      return Float.NaN;
    }
    float mag = e == 0 ? m * 0x1p-9f : Math.scalb(1f + m / 8f, e - 7);
    return sign * mag;
  }

  private SerializationException truncatedWhileMapped(String name, InternalError e) {
    // The JVM turns SIGBUS on a mapped page past the end of the file into an InternalError.
    long size;
    try {
      size = java.nio.file.Files.size(path);
    } catch (IOException io) {
      size = -1;
    }
    return new SerializationException(path + ": file changed while mapped: reading tensor '" + name
        + "' faulted (the file now has " + (size < 0 ? "an unknown number of" : Long.toString(size))
        + " bytes; was it truncated or replaced in place by another process?)", e);
  }

  /**
   * Copies a floating-point tensor after checking its shape.
   *
   * @param name the tensor
   * @param shape the expected dimensions
   * @return its elements in row-major order
   * @throws ShapeException if the shape differs
   * @throws SerializationException if it is missing or not a float type
   */
  public float[] floats(String name, long... shape) {
    requireShape(name, shape);
    return floats(name);
  }

  /**
   * Copies the raw bytes of a tensor to a new array.
   *
   * @throws SerializationException if it is missing or larger than an array
   */
  public byte[] bytes(String name) {
    ensureOpen();
    TensorInfo t = info(name);
    if (t.byteLength() > Integer.MAX_VALUE - 8) {
      throw new SerializationException(path + ": tensor '" + name + "' has " + t.byteLength() + " bytes, too many for one byte[]");
    }
    try {
      return data.asSlice(t.begin(), t.byteLength()).toArray(ValueLayout.JAVA_BYTE);
    } catch (InternalError e) {
      throw truncatedWhileMapped(name, e);
    }
  }

  private void ensureOpen() {
    if (!arena.scope().isAlive()) {
      throw new IllegalStateException(path + " is closed");
    }
  }

  /** Unmaps the file. Idempotent. */
  @Override
  public void close() {
    if (arena.scope().isAlive()) {
      arena.close();
    }
  }
}
