package dev.aphelion.tritter.hf;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.tritter.model.DecoderConfig;
import dev.aphelion.tritter.model.FfnActivation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code config.json} of a Hugging Face {@code BitNetForCausalLM} checkpoint (model type {@code
 * bitnet}), or of a {@code LlamaForCausalLM} one (model type {@code llama}, float weights, run as
 * the dense twin), validated field by field.
 *
 * <p>Every field the architecture uses is read with transformers' {@code BitNetConfig} default when
 * absent, and checked: a wrong type, an out-of-range value or a value this library does not
 * implement (another {@code hidden_act}, {@code rope_scaling}, {@code attention_bias}, a {@code
 * head_dim} other than {@code hidden_size / num_attention_heads}, another quantization method) is a
 * {@link ConfigException} naming the field and the file. Fields that do not change inference
 * ({@code initializer_range}, {@code use_cache}, ...) are accepted; fields nobody knows are logged
 * once at WARN and ignored.
 *
 * @param architecture {@code BitNetForCausalLM} or {@code LlamaForCausalLM}
 * @param decoder the decoder shape (activation {@link FfnActivation#SQUARED_RELU} for BitNet,
 *     {@link FfnActivation#SWIGLU} for LLaMA)
 * @param weightForm how the checkpoint stores its projection weights
 * @param maxPositions {@code max_position_embeddings}
 * @param bosTokenId {@code bos_token_id}, or -1 when null or absent
 * @param eosTokenIds {@code eos_token_id} (one id or a list; empty when null or absent)
 * @param dtype {@code torch_dtype} (or {@code dtype}): {@code bfloat16}, {@code float16} or {@code
 *     float32}
 */
public record HfConfig(String architecture, DecoderConfig decoder, WeightForm weightForm, int maxPositions, int bosTokenId,
    List<Integer> eosTokenIds, String dtype) {

  private static final Logger LOG = LoggerFactory.getLogger(HfConfig.class);

  static final ObjectMapper JSON = JsonMapper.builder()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  /** Fields read (and validated) by {@link #parse}. */
  private static final Set<String> USED = Set.of("architectures", "model_type", "vocab_size", "hidden_size",
      "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim",
      "hidden_act", "max_position_embeddings", "rms_norm_eps", "rope_theta", "rope_scaling", "rope_parameters",
      "tie_word_embeddings", "attention_bias", "mlp_bias", "bos_token_id", "eos_token_id", "torch_dtype", "dtype",
      "quantization_config");

  /** Fields that do not affect inference here: training settings, bookkeeping, output switches. */
  private static final Set<String> IGNORED = Set.of("initializer_range", "attention_dropout", "use_cache",
      "pad_token_id", "transformers_version", "_name_or_path", "output_attentions", "output_hidden_states",
      "return_dict", "torchscript", "pretraining_tp", "is_decoder", "auto_map", "use_return_dict",
      "chunk_size_feed_forward", "problem_type", "id2label", "label2id", "architectures_version", "tokenizer_class",
      "_attn_implementation_autoset", "layer_types");

  /** How a checkpoint stores the weights of its seven projections per block. */
  public enum WeightForm {
    /**
     * {@code linear_class: bitlinear} (transformers' {@code BitLinear}, offline): {@code uint8
     * [out/4, in]} with four trits per byte packed along the output dimension (row {@code i·out/4 +
     * j} in bits {@code 2i..2i+1} of byte row {@code j}, code = trit + 1), and a {@code
     * weight_scale} that the output is divided by.
     */
    PACKED_BITLINEAR,
    /**
     * {@code linear_class: autobitlinear, quantization_mode: offline}: ternary weights, packed as
     * above or stored as float {-1, 0, 1}, and a {@code weight_scale} that the output is multiplied
     * by.
     */
    TERNARY_AUTOBITLINEAR,
    /**
     * {@code linear_class: autobitlinear, quantization_mode: online}: float master weights,
     * quantized once at load exactly as transformers' {@code WeightQuant} does at every forward:
     * {@code s = 1 / max(mean|W|, 1e-5)} over the whole tensor, {@code trit = clamp(round half even
     * (W·s), -1, 1)}, value {@code trit / s}.
     */
    MASTER_ONLINE,
    /** A {@code LlamaForCausalLM} checkpoint: float projection weights, run dense. */
    DENSE
  }

  /**
   * Validates the record.
   *
   * @throws ConfigException if a part is missing or out of range
   */
  public HfConfig {
    if (architecture == null || decoder == null || weightForm == null || eosTokenIds == null || dtype == null) {
      throw new ConfigException("HfConfig needs decoder, weightForm, eosTokenIds and dtype");
    }
    if (maxPositions < 1) {
      throw new ConfigException("max_position_embeddings must be positive, got " + maxPositions);
    }
    eosTokenIds = List.copyOf(eosTokenIds);
  }

  /**
   * Reads and validates {@code config.json}.
   *
   * @param file the file
   * @return the configuration
   * @throws ConfigException naming the field that is missing, mistyped or unsupported
   * @throws AphelionException with {@link ErrorCode#IO} if the file cannot be read
   */
  public static HfConfig read(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new AphelionException(ErrorCode.IO, file + " does not exist; a Hugging Face model directory needs config.json", e);
    } catch (IOException e) {
      throw new AphelionException(ErrorCode.IO, "cannot read " + file + ": " + e.getMessage(), e);
    }
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (IOException e) {
      throw new ConfigException(file + " is not valid JSON: " + e.getMessage(), e);
    }
    return parse(root, file.toString());
  }

  /**
   * Validates a parsed {@code config.json}.
   *
   * @param root the JSON object
   * @param source where it came from, for messages
   * @return the configuration
   * @throws ConfigException naming the field that is missing, mistyped or unsupported
   */
  public static HfConfig parse(JsonNode root, String source) {
    Fields f = new Fields(root, source);
    if (!root.isObject()) {
      throw new ConfigException(source + ": config.json must be a JSON object");
    }
    String modelType = f.string("model_type", null);
    boolean llama = "llama".equals(modelType);
    if (!"bitnet".equals(modelType) && !llama) {
      throw new ConfigException(source + ": model_type is " + quote(modelType)
          + "; supported are \"bitnet\" (BitNetForCausalLM) and \"llama\" (LlamaForCausalLM, run dense)");
    }
    String architecture = llama ? "LlamaForCausalLM" : "BitNetForCausalLM";
    JsonNode arch = root.get("architectures");
    if (arch != null && !arch.isNull()) {
      if (!arch.isArray() || arch.size() != 1 || !architecture.equals(arch.get(0).asText())) {
        throw new ConfigException(source + ": architectures is " + arch + "; model_type " + quote(modelType) + " needs [\""
            + architecture + "\"]");
      }
    }
    // defaults: transformers' BitNetConfig (the 2B4T shape) and LlamaConfig
    int vocab = f.positiveInt("vocab_size", llama ? 32000 : 128256);
    int hidden = f.positiveInt("hidden_size", llama ? 4096 : 2560);
    int ffn = f.positiveInt("intermediate_size", llama ? 11008 : 6912);
    int layers = f.positiveInt("num_hidden_layers", llama ? 32 : 30);
    int heads = f.positiveInt("num_attention_heads", llama ? 32 : 20);
    int kvHeads = root.has("num_key_value_heads") && root.get("num_key_value_heads").isNull() ? heads
        : f.positiveInt("num_key_value_heads", llama ? heads : 5);
    if (hidden % heads != 0) {
      throw new ConfigException(source + ": hidden_size " + hidden + " is not divisible by num_attention_heads " + heads);
    }
    if (heads % kvHeads != 0) {
      throw new ConfigException(source + ": num_attention_heads " + heads + " is not divisible by num_key_value_heads " + kvHeads);
    }
    if (root.has("head_dim") && !root.get("head_dim").isNull()) {
      int hd = f.positiveInt("head_dim", hidden / heads);
      if (hd != hidden / heads) {
        throw new ConfigException(source + ": head_dim " + hd + " differs from hidden_size / num_attention_heads = "
            + hidden / heads + "; only head_dim = hidden_size / num_attention_heads is supported");
      }
    }
    String act = f.string("hidden_act", llama ? "silu" : "relu2");
    if (!llama && !"relu2".equals(act)) {
      throw new ConfigException(source + ": hidden_act is " + quote(act) + "; BitNet b1.58 uses \"relu2\" (squared ReLU), the only one supported");
    }
    if (llama && !"silu".equals(act)) {
      throw new ConfigException(source + ": hidden_act is " + quote(act) + "; LLaMA uses \"silu\" (SwiGLU), the only one supported");
    }
    int maxPos = f.positiveInt("max_position_embeddings", 2048);
    double eps = f.number("rms_norm_eps", llama ? 1e-6 : 1e-5);
    if (!(eps > 0) || eps >= 1) {
      throw new ConfigException(source + ": rms_norm_eps must be in (0, 1), got " + eps);
    }
    double theta = rope(root, f, source, llama ? 10000.0 : 500000.0);
    boolean tied = f.bool("tie_word_embeddings", false);
    if (f.bool("attention_bias", false)) {
      throw new ConfigException(source + ": attention_bias is true; BitNet projections with biases are not supported");
    }
    if (f.bool("mlp_bias", false)) {
      throw new ConfigException(source + ": mlp_bias is true; BitNet projections with biases are not supported");
    }
    int bos = f.tokenId("bos_token_id", vocab);
    List<Integer> eos = f.tokenIds("eos_token_id", vocab);
    String dtype = root.has("torch_dtype") ? f.string("torch_dtype", "bfloat16") : f.string("dtype", "bfloat16");
    if (!Set.of("bfloat16", "float16", "float32").contains(dtype)) {
      throw new ConfigException(source + ": torch_dtype is " + quote(dtype) + "; expected bfloat16, float16 or float32");
    }
    WeightForm form;
    if (llama) {
      JsonNode qc = root.get("quantization_config");
      if (qc != null && !qc.isNull()) {
        throw new ConfigException(source + ": quantization_config " + qc + " on a LlamaForCausalLM checkpoint is not supported; "
            + "only float (f32, f16, bf16) LLaMA weights load");
      }
      form = WeightForm.DENSE;
    } else {
      form = quantization(root.get("quantization_config"), source);
    }
    warnUnknown(root, source);
    DecoderConfig decoder;
    try {
      decoder = DecoderConfig.builder().vocabSize(vocab).hiddenSize(hidden).numLayers(layers).numHeads(heads)
          .numKvHeads(kvHeads).ffnSize(ffn).activation(llama ? FfnActivation.SWIGLU : FfnActivation.SQUARED_RELU).rmsNormEps((float) eps)
          .ropeTheta((float) theta).tiedEmbeddings(tied).build();
    } catch (ConfigException e) {
      throw new ConfigException(source + ": " + e.getMessage(), e);
    }
    return new HfConfig(architecture, decoder, form, maxPos, bos, eos, dtype);
  }

  private static double rope(JsonNode root, Fields f, String source, double dflt) {
    JsonNode scaling = root.get("rope_scaling");
    if (scaling != null && !scaling.isNull()) {
      String type = scaling.path("rope_type").asText(scaling.path("type").asText(""));
      if (!"default".equals(type)) {
        throw new ConfigException(source + ": rope_scaling is " + scaling + "; only plain RoPE (rope_scaling null) is supported");
      }
    }
    JsonNode params = root.get("rope_parameters");
    if (params != null && !params.isNull()) {
      if (!params.isObject()) {
        throw new ConfigException(source + ": rope_parameters must be an object, got " + params);
      }
      String type = params.path("rope_type").asText("default");
      if (!"default".equals(type)) {
        throw new ConfigException(source + ": rope_parameters.rope_type is " + quote(type) + "; only \"default\" is supported");
      }
      JsonNode t = params.get("rope_theta");
      if (t != null) {
        if (!t.isNumber()) {
          throw new ConfigException(source + ": rope_parameters.rope_theta must be a number, got " + t);
        }
        double theta = t.asDouble();
        if (root.has("rope_theta") && f.number("rope_theta", theta) != theta) {
          throw new ConfigException(source + ": rope_theta " + root.get("rope_theta") + " disagrees with rope_parameters.rope_theta " + t);
        }
        return checkTheta(theta, source);
      }
    }
    return checkTheta(f.number("rope_theta", dflt), source);
  }

  private static double checkTheta(double theta, String source) {
    if (!(theta > 1) || Double.isInfinite(theta)) {
      throw new ConfigException(source + ": rope_theta must be > 1 and finite, got " + theta);
    }
    return theta;
  }

  private static WeightForm quantization(JsonNode qc, String source) {
    if (qc == null || qc.isNull()) {
      throw new ConfigException(source + ": quantization_config is missing; without it transformers runs a BitNet checkpoint "
          + "unquantized, which this library does not (expected quant_method \"bitnet\")");
    }
    if (!qc.isObject()) {
      throw new ConfigException(source + ": quantization_config must be an object, got " + qc);
    }
    Fields f = new Fields(qc, source + " quantization_config");
    String method = f.string("quant_method", null);
    if (!"bitnet".equals(method)) {
      throw new ConfigException(source + ": quantization_config.quant_method is " + quote(method) + "; only \"bitnet\" is supported");
    }
    String linear = f.string("linear_class", "bitlinear");
    String mode = f.string("quantization_mode", "offline");
    if (f.bool("use_rms_norm", false)) {
      throw new ConfigException(source + ": quantization_config.use_rms_norm is true; the extra RMSNorm inside BitLinear is not supported");
    }
    JsonNode skip = qc.get("modules_to_not_convert");
    if (skip != null && !skip.isNull()) {
      if (!skip.isArray()) {
        throw new ConfigException(source + ": quantization_config.modules_to_not_convert must be a list, got " + skip);
      }
      for (JsonNode m : skip) {
        if (!"lm_head".equals(m.asText())) {
          throw new ConfigException(source + ": quantization_config.modules_to_not_convert contains " + m
              + "; only \"lm_head\" (never quantized anyway) is supported");
        }
      }
    }
    if (!"online".equals(mode) && !"offline".equals(mode)) {
      throw new ConfigException(source + ": quantization_config.quantization_mode is " + quote(mode) + "; expected \"online\" or \"offline\"");
    }
    return switch (linear) {
      case "bitlinear" -> {
        if (!"offline".equals(mode)) {
          throw new ConfigException(source + ": quantization_config.quantization_mode is \"online\" with linear_class \"bitlinear\"; "
              + "BitLinear holds packed weights, so only \"offline\" is meaningful");
        }
        yield WeightForm.PACKED_BITLINEAR;
      }
      case "autobitlinear" -> "online".equals(mode) ? WeightForm.MASTER_ONLINE : WeightForm.TERNARY_AUTOBITLINEAR;
      default -> throw new ConfigException(source + ": quantization_config.linear_class is " + quote(linear)
          + "; expected \"bitlinear\" or \"autobitlinear\"");
    };
  }

  private static void warnUnknown(JsonNode root, String source) {
    TreeSet<String> unknown = new TreeSet<>();
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!USED.contains(k) && !IGNORED.contains(k)) {
        unknown.add(k);
      }
    }
    if (!unknown.isEmpty()) {
      LOG.warn("{}: ignoring unknown config.json fields {}", source, unknown);
    }
  }

  private static String quote(String s) {
    return s == null ? "missing" : "\"" + s + "\"";
  }

  /** Typed reads of one JSON object, each error naming the field. */
  static final class Fields {
    private final JsonNode node;
    private final String source;

    Fields(JsonNode node, String source) {
      this.node = node;
      this.source = source;
    }

    private JsonNode get(String name) {
      JsonNode v = node.get(name);
      return v == null || v.isNull() ? null : v;
    }

    String string(String name, String dflt) {
      JsonNode v = get(name);
      if (v == null) {
        return dflt;
      }
      if (!v.isTextual()) {
        throw new ConfigException(source + ": " + name + " must be a string, got " + v);
      }
      return v.asText();
    }

    int positiveInt(String name, int dflt) {
      JsonNode v = get(name);
      if (v == null) {
        return dflt;
      }
      if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 1) {
        throw new ConfigException(source + ": " + name + " must be a positive integer, got " + v);
      }
      return v.asInt();
    }

    double number(String name, double dflt) {
      JsonNode v = get(name);
      if (v == null) {
        return dflt;
      }
      if (!v.isNumber()) {
        throw new ConfigException(source + ": " + name + " must be a number, got " + v);
      }
      return v.asDouble();
    }

    boolean bool(String name, boolean dflt) {
      JsonNode v = get(name);
      if (v == null) {
        return dflt;
      }
      if (!v.isBoolean()) {
        throw new ConfigException(source + ": " + name + " must be true or false, got " + v);
      }
      return v.asBoolean();
    }

    int tokenId(String name, int vocab) {
      JsonNode v = node.get(name);
      if (v == null || v.isNull()) {
        return -1;
      }
      if (!v.isIntegralNumber() || !v.canConvertToInt()) {
        throw new ConfigException(source + ": " + name + " must be a token id, got " + v);
      }
      return checkToken(name, v.asInt(), vocab);
    }

    List<Integer> tokenIds(String name, int vocab) {
      JsonNode v = node.get(name);
      if (v == null || v.isNull()) {
        return List.of();
      }
      List<Integer> out = new ArrayList<>();
      if (v.isArray()) {
        for (JsonNode e : v) {
          if (!e.isIntegralNumber() || !e.canConvertToInt()) {
            throw new ConfigException(source + ": " + name + " must be a token id or a list of them, got " + v);
          }
          out.add(checkToken(name, e.asInt(), vocab));
        }
      } else if (v.isIntegralNumber() && v.canConvertToInt()) {
        out.add(checkToken(name, v.asInt(), vocab));
      } else {
        throw new ConfigException(source + ": " + name + " must be a token id or a list of them, got " + v);
      }
      return out;
    }

    private int checkToken(String name, int id, int vocab) {
      if (id < 0 || id >= vocab) {
        throw new ConfigException(source + ": " + name + " " + id + " is outside the vocabulary [0, " + vocab + ")");
      }
      return id;
    }
  }
}
