package dev.aphelion.tritter.hf;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.io.DType;
import dev.aphelion.tritter.io.SafeTensorsFile;
import dev.aphelion.tritter.io.TensorInfo;
import dev.aphelion.tritter.io.WeightSource;
import dev.aphelion.tritter.ternary.PackedTernary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An open Hugging Face model directory: its validated {@code config.json} and its safetensors
 * weights, either one {@code model.safetensors} or the shards listed by {@code
 * model.safetensors.index.json}. The shards stay memory-mapped until {@link #close()}.
 *
 * <p>The index is checked against the shards: every listed tensor must be in the shard the index
 * names, every shard tensor must be listed, no tensor may be in two shards, and shard names must be
 * plain file names inside the directory.
 */
public final class HfCheckpoint implements AutoCloseable {

  /** The single-file weights. */
  public static final String SINGLE_FILE = "model.safetensors";
  /** The index of a sharded checkpoint. */
  public static final String INDEX_FILE = "model.safetensors.index.json";

  private final Path directory;
  private final HfConfig config;
  private final List<SafeTensorsFile> files;
  private final Map<String, SafeTensorsFile> byTensor;
  private final Set<String> consumed = ConcurrentHashMap.newKeySet();

  private HfCheckpoint(Path directory, HfConfig config, List<SafeTensorsFile> files, Map<String, SafeTensorsFile> byTensor) {
    this.directory = directory;
    this.config = config;
    this.files = files;
    this.byTensor = byTensor;
  }

  /**
   * Opens a model directory.
   *
   * @param directory the directory holding {@code config.json} and the weights
   * @return the open checkpoint; close it to unmap the weights
   * @throws dev.aphelion.core.error.ConfigException if {@code config.json} is invalid or unsupported
   * @throws SerializationException if the index or a shard is malformed or they disagree
   * @throws AphelionException with {@link ErrorCode#IO} if a file cannot be read
   */
  public static HfCheckpoint open(Path directory) {
    Objects.requireNonNull(directory, "directory");
    if (!Files.isDirectory(directory)) {
      throw new AphelionException(ErrorCode.IO, directory + " is not a directory; expected a Hugging Face model directory");
    }
    HfConfig config = HfConfig.read(directory.resolve("config.json"));
    Path index = directory.resolve(INDEX_FILE);
    Path single = directory.resolve(SINGLE_FILE);
    List<SafeTensorsFile> files = new ArrayList<>();
    try {
      Map<String, SafeTensorsFile> byTensor = new TreeMap<>();
      if (Files.exists(index)) {
        openSharded(directory, index, files, byTensor);
      } else if (Files.exists(single)) {
        SafeTensorsFile f = SafeTensorsFile.open(single);
        files.add(f);
        for (String n : f.names()) {
          byTensor.put(n, f);
        }
      } else {
        throw new SerializationException(directory + " has neither " + SINGLE_FILE + " nor " + INDEX_FILE + " (files: " + listing(directory) + ")");
      }
      return new HfCheckpoint(directory, config, List.copyOf(files), Collections.unmodifiableMap(byTensor));
    } catch (RuntimeException e) {
      files.forEach(SafeTensorsFile::close);
      throw e;
    }
  }

  private static void openSharded(Path dir, Path index, List<SafeTensorsFile> files, Map<String, SafeTensorsFile> byTensor) {
    JsonNode root;
    try {
      root = HfConfig.JSON.readTree(Files.readString(index));
    } catch (IOException e) {
      throw new SerializationException(index + " is not readable JSON: " + e.getMessage(), e);
    }
    JsonNode map = root.get("weight_map");
    if (map == null || !map.isObject() || map.isEmpty()) {
      throw new SerializationException(index + ": weight_map must be a non-empty object of tensor name to shard file");
    }
    Map<String, String> shardOf = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode v = e.getValue();
      if (!v.isTextual()) {
        throw new SerializationException(index + ": weight_map[\"" + e.getKey() + "\"] must be a file name, got " + v);
      }
      String file = v.asText();
      Path p = Path.of(file);
      if (p.isAbsolute() || p.getNameCount() != 1 || file.equals("..") || file.equals(".") || !file.endsWith(".safetensors")) {
        throw new SerializationException(index + ": weight_map[\"" + e.getKey() + "\"] is \"" + file
            + "\"; shards must be plain .safetensors file names in the model directory");
      }
      shardOf.put(e.getKey(), file);
    }
    Map<String, SafeTensorsFile> shards = new LinkedHashMap<>();
    for (String file : new TreeSet<>(shardOf.values())) {
      Path p = dir.resolve(file);
      if (!Files.isRegularFile(p)) {
        throw new SerializationException(index + " lists shard " + file + ", which is not in " + dir);
      }
      SafeTensorsFile f = SafeTensorsFile.open(p);
      files.add(f);
      shards.put(file, f);
    }
    for (Map.Entry<String, String> e : shardOf.entrySet()) {
      SafeTensorsFile f = shards.get(e.getValue());
      if (!f.contains(e.getKey())) {
        throw new SerializationException(index + " puts tensor '" + e.getKey() + "' in " + e.getValue() + ", which does not hold it");
      }
      byTensor.put(e.getKey(), f);
    }
    for (Map.Entry<String, SafeTensorsFile> s : shards.entrySet()) {
      for (String n : s.getValue().names()) {
        String listed = shardOf.get(n);
        if (!s.getKey().equals(listed)) {
          throw new SerializationException(dir.resolve(s.getKey()) + " holds tensor '" + n + "', which " + index.getFileName()
              + (listed == null ? " does not list" : " places in " + listed));
        }
      }
    }
  }

  private static String listing(Path dir) {
    try (var s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList().toString();
    } catch (IOException e) {
      return "unlistable: " + e.getMessage();
    }
  }

  /** The model directory. */
  public Path directory() {
    return directory;
  }

  /** The validated configuration. */
  public HfConfig config() {
    return config;
  }

  /** All tensor names, sorted. */
  public Set<String> tensorNames() {
    return byTensor.keySet();
  }

  /**
   * The dtype, shape and location of one tensor.
   *
   * @param name the tensor
   * @return its description
   * @throws SerializationException if there is no such tensor
   */
  public TensorInfo info(String name) {
    return file(name).info(name);
  }

  private SafeTensorsFile file(String name) {
    SafeTensorsFile f = byTensor.get(name);
    if (f == null) {
      throw new SerializationException(directory + ": the checkpoint has no tensor '" + name + "'");
    }
    consumed.add(name);
    return f;
  }

  /**
   * The checkpoint as a {@link WeightSource} for {@link dev.aphelion.tritter.model.DecoderModel}:
   * float tensors widened to f32, and every block projection as a {@link PackedTernary} with one
   * scale for the tensor, converted from the checkpoint's {@link HfConfig.WeightForm}.
   *
   * @return the source; valid while this checkpoint is open
   */
  public WeightSource weights() {
    return new WeightSource() {
      @Override
      public float[] floats(String name, long... shape) {
        return file(name).floats(name, shape);
      }

      @Override
      public Optional<PackedTernary> packed(String prefix, int rows, int cols) {
        if (!prefix.startsWith("model.layers.") || config.weightForm() == HfConfig.WeightForm.DENSE) {
          return Optional.empty();
        }
        return Optional.of(projection(prefix, rows, cols));
      }

      @Override
      public boolean contains(String name) {
        return byTensor.containsKey(name);
      }
    };
  }

  /**
   * Reads one block projection as ternary weights with one scale.
   *
   * @param prefix for example {@code model.layers.0.self_attn.q_proj}
   * @param out output features
   * @param in input features
   * @return the matrix
   * @throws ShapeException if a tensor has the wrong shape
   * @throws SerializationException if a tensor is missing, of the wrong dtype or not ternary
   */
  public PackedTernary projection(String prefix, int out, int in) {
    String wName = prefix + ".weight";
    TensorInfo w = info(wName);
    return switch (config.weightForm()) {
      case DENSE -> throw new SerializationException(directory + ": '" + wName + "' belongs to a " + config.architecture()
          + " checkpoint, which holds float weights, not ternary ones");
      case MASTER_ONLINE -> {
        if (!w.dtype().isFloatConvertible()) {
          throw new SerializationException(directory + ": '" + wName + "' has dtype " + w.dtype()
              + "; quantization_mode \"online\" needs float master weights (BF16, F16 or F32)");
        }
        yield BitNetWeights.quantizeMaster(file(wName).floats(wName, out, in), out, in, wName);
      }
      case PACKED_BITLINEAR -> {
        if (w.dtype() != DType.U8) {
          throw new SerializationException(directory + ": '" + wName + "' has dtype " + w.dtype()
              + "; linear_class \"bitlinear\" stores packed U8 weights");
        }
        yield packedU8(wName, w, out, in, 1f / weightScale(prefix));
      }
      case TERNARY_AUTOBITLINEAR -> {
        float scale = weightScale(prefix);
        if (w.dtype() == DType.U8) {
          yield packedU8(wName, w, out, in, scale);
        }
        yield BitNetWeights.fromTritFloats(file(wName).floats(wName, out, in), out, in, scale, wName);
      }
    };
  }

  private PackedTernary packedU8(String name, TensorInfo w, int out, int in, float scale) {
    if (out % 4 != 0) {
      throw new ShapeException(directory + ": '" + name + "' has " + out + " output features; packed BitNet weights need a multiple of 4");
    }
    long[] expected = {out / 4, in};
    if (!Arrays.equals(w.shape(), expected)) {
      throw new ShapeException(directory + ": packed tensor '" + name + "' has shape " + Arrays.toString(w.shape())
          + ", expected " + Arrays.toString(expected) + " (four trits per byte along the output dimension)");
    }
    return BitNetWeights.unpackTransformers(file(name).segment(name), out, in, scale, directory + ": '" + name + "'");
  }

  private float weightScale(String prefix) {
    String name = prefix + ".weight_scale";
    TensorInfo t = info(name);
    if (t.elementCount() != 1) {
      throw new ShapeException(directory + ": '" + name + "' has shape " + Arrays.toString(t.shape()) + "; expected one value");
    }
    float s = file(name).floats(name)[0];
    if (!(s > 0) || !Float.isFinite(s)) {
      throw new SerializationException(directory + ": '" + name + "' is " + s + "; a weight scale must be positive and finite");
    }
    return s;
  }

  /**
   * Tensors not read so far, other than those known to be redundant ({@code lm_head.weight} of a
   * tied model, {@code rotary_emb.inv_freq} buffers).
   *
   * @return the names, sorted
   */
  public Set<String> unusedTensors() {
    TreeSet<String> out = new TreeSet<>();
    for (String n : byTensor.keySet()) {
      boolean redundant = n.endsWith("rotary_emb.inv_freq") || (n.equals("lm_head.weight") && config.decoder().tiedEmbeddings());
      if (!consumed.contains(n) && !redundant) {
        out.add(n);
      }
    }
    return out;
  }

  /** Unmaps every shard. Idempotent. */
  @Override
  public void close() {
    files.forEach(SafeTensorsFile::close);
  }
}
