package dev.aphelion.tritter.hf;

import dev.aphelion.core.error.SerializationException;
import dev.aphelion.tritter.model.DecoderModel;
import dev.aphelion.tritter.model.Precision;
import com.fasterxml.jackson.databind.JsonNode;
import dev.aphelion.core.error.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.Objects;
import java.util.Set;

/**
 * A Hugging Face {@code BitNetForCausalLM} checkpoint loaded into a {@link DecoderModel}.
 *
 * <p>The seven projections of every block become packed ternary weights with one scale per tensor
 * (BitNet b1.58), whatever the checkpoint's {@link HfConfig.WeightForm}; activations are quantized
 * per token to int8 at each projection; {@code attn_sub_norm} runs before {@code o_proj} and {@code
 * ffn_sub_norm} before {@code down_proj}. The embedding (tied head) is kept in f32 by default, as
 * transformers keeps {@code lm_head} unquantized.
 *
 * <pre>{@code
 * HfModel m = HfModel.load(Path.of("bitnet-b1.58-2B-4T"));
 * int[] next = m.model().generate(promptIds, 32, Sampler.greedy());
 * }</pre>
 *
 * @param directory the model directory
 * @param config its validated configuration
 * @param model the runnable model
 * @param stopTokens the end-of-sequence tokens of {@code config.json} and {@code
 *     generation_config.json} together
 */
public record HfModel(Path directory, HfConfig config, DecoderModel model, Set<Integer> stopTokens) {

  /**
   * Checks the parts.
   *
   * @throws NullPointerException if one is null
   */
  public HfModel {
    Objects.requireNonNull(directory, "directory");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(model, "model");
    stopTokens = Set.copyOf(stopTokens);
  }

  /**
   * Loads a model directory with ternary projections and an f32 embedding/head ({@code
   * LlamaForCausalLM}: everything f32, {@link Precision#DENSE_F32}).
   *
   * @param directory holds {@code config.json} and the safetensors weights
   * @return the model
   * @throws dev.aphelion.core.error.ConfigException if {@code config.json} is invalid or unsupported
   * @throws SerializationException if a weight is missing, malformed or unexpected
   * @throws dev.aphelion.core.error.ShapeException if a weight has the wrong shape
   */
  public static HfModel load(Path directory) {
    if (!Files.isDirectory(directory)) {
      return load(directory, Precision.TERNARY, false); // reports what is wrong with the path
    }
    HfConfig config = HfConfig.read(directory.resolve("config.json"));
    return load(directory, config.weightForm() == HfConfig.WeightForm.DENSE ? Precision.DENSE_F32 : Precision.TERNARY, false);
  }

  /**
   * Loads a model directory.
   *
   * @param directory holds {@code config.json} and the safetensors weights
   * @param precision {@link Precision#TERNARY} (packed weights, int8 activations, as BitNet runs)
   *     or {@link Precision#DENSE_F32} (the same ternary values as f32, f32 activations: the dense
   *     twin)
   * @param int8Embeddings store the embedding/head as int8 rows with one scale each (a quarter of
   *     the memory, not what transformers computes)
   * @return the model
   * @throws dev.aphelion.core.error.ConfigException if {@code config.json} is invalid or unsupported
   * @throws SerializationException if a weight is missing, malformed or unexpected
   * @throws dev.aphelion.core.error.ShapeException if a weight has the wrong shape
   */
  public static HfModel load(Path directory, Precision precision, boolean int8Embeddings) {
    Objects.requireNonNull(precision, "precision");
    try (HfCheckpoint ckpt = HfCheckpoint.open(directory)) {
      HfConfig config = ckpt.config();
      boolean dense = config.weightForm() == HfConfig.WeightForm.DENSE;
      if (dense && precision != Precision.DENSE_F32) {
        throw new ConfigException(directory + ": a " + config.architecture() + " checkpoint holds float weights that were not "
            + "trained ternary; load it with Precision.DENSE_F32");
      }
      int layers = dense ? 0 : config.decoder().numLayers();
      for (int l = 0; l < layers; l++) {
        for (String norm : new String[] {"self_attn.attn_sub_norm.weight", "mlp.ffn_sub_norm.weight"}) {
          String name = "model.layers." + l + "." + norm;
          if (!ckpt.tensorNames().contains(name)) {
            throw new SerializationException(directory + ": BitNet checkpoint lacks '" + name + "'");
          }
        }
      }
      DecoderModel model = DecoderModel.fromWeights(config.decoder(), precision, ckpt.weights(), int8Embeddings);
      Set<String> unused = ckpt.unusedTensors();
      if (!unused.isEmpty()) {
        throw new SerializationException(directory + ": tensors that " + config.architecture() + " with this config.json does not have: "
            + (unused.size() > 8 ? unused.stream().limit(8).toList() + " and " + (unused.size() - 8) + " more" : unused));
      }
      Set<Integer> stops = new TreeSet<>(config.eosTokenIds());
      stops.addAll(generationEos(directory.resolve("generation_config.json"), config.decoder().vocabSize()));
      return new HfModel(directory, config, model, stops);
    }
  }

  /** The {@code eos_token_id} of {@code generation_config.json} (one id or a list), if the file exists. */
  private static List<Integer> generationEos(Path file, int vocab) {
    if (!Files.exists(file)) {
      return List.of();
    }
    JsonNode root;
    try {
      root = HfConfig.JSON.readTree(Files.readString(file));
    } catch (IOException e) {
      throw new ConfigException(file + " is not readable JSON: " + e.getMessage(), e);
    }
    if (!root.isObject()) {
      throw new ConfigException(file + " must be a JSON object");
    }
    return new HfConfig.Fields(root, file.toString()).tokenIds("eos_token_id", vocab);
  }
}
