package dev.aphelion.tritter.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ErrorCode;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A model's chat template: the Jinja template transformers' {@code apply_chat_template} renders,
 * read from {@code chat_template.jinja} or from {@code tokenizer_config.json}'s {@code
 * chat_template} (a string, or a list of named templates of which {@code default} is used), with
 * {@code bos_token} and {@code eos_token} from {@code tokenizer_config.json}.
 *
 * <p>Rendered by HubSpot's Jinjava ({@code com.hubspot.jinjava:jinjava}, an optional dependency of
 * aphelion-tritter like DJL's tokenizers) with Python-style output of values and {@code
 * raise_exception(message)} defined as transformers defines it. Jinjava implements Jinja2 closely
 * but not completely; a template it cannot render is a {@link ConfigException} naming the error,
 * never a silently different prompt. The rendered text already holds the template's special tokens
 * (BOS included), so encode it without adding special tokens again.
 *
 * <p>Immutable and safe for concurrent use.
 */
public final class ChatTemplate {

  /** One message of a conversation. */
  public record Message(String role, String content) {
    /**
     * Creates a message.
     *
     * @param role {@code system}, {@code user}, {@code assistant} or what the template knows
     * @param content the text
     */
    public Message {
      Objects.requireNonNull(role, "role");
      Objects.requireNonNull(content, "content");
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private final String source;
  private final String template;
  private final String bosToken;
  private final String eosToken;
  private final Jinjava jinja;

  private ChatTemplate(String source, String template, String bosToken, String eosToken) {
    this.source = source;
    this.template = template;
    this.bosToken = bosToken;
    this.eosToken = eosToken;
    this.jinja = engine();
  }

  /**
   * A template from its text.
   *
   * @param template the Jinja source
   * @param bosToken the value of {@code bos_token}
   * @param eosToken the value of {@code eos_token}
   * @return the template
   * @throws AphelionException if Jinjava is not on the class or module path
   */
  public static ChatTemplate of(String template, String bosToken, String eosToken) {
    return new ChatTemplate("template text", Objects.requireNonNull(template, "template"), Objects.requireNonNull(bosToken, "bosToken"),
        Objects.requireNonNull(eosToken, "eosToken"));
  }

  /**
   * The template of a model directory, if it has one.
   *
   * @param dir the model directory
   * @return the template, empty if neither {@code chat_template.jinja} nor a {@code chat_template}
   *     entry exists
   * @throws AphelionException with {@link ErrorCode#IO} if a file cannot be read, or Jinjava is not
   *     on the class or module path
   * @throws ConfigException if {@code tokenizer_config.json} is malformed
   */
  public static Optional<ChatTemplate> load(Path dir) {
    Objects.requireNonNull(dir, "dir");
    Path config = dir.resolve("tokenizer_config.json");
    JsonNode cfg = null;
    if (Files.isRegularFile(config)) {
      try {
        cfg = JSON.readTree(config.toFile());
      } catch (IOException e) {
        throw new ConfigException(config + ": cannot read it as JSON: " + e.getMessage(), e);
      }
      if (!cfg.isObject()) {
        throw new ConfigException(config + ": expected a JSON object");
      }
    }
    String bos = cfg == null ? "" : token(config, cfg, "bos_token");
    String eos = cfg == null ? "" : token(config, cfg, "eos_token");
    Path jinjaFile = dir.resolve("chat_template.jinja");
    if (Files.isRegularFile(jinjaFile)) {
      try {
        return Optional.of(new ChatTemplate(jinjaFile.toString(), Files.readString(jinjaFile), bos, eos));
      } catch (IOException e) {
        throw new AphelionException(ErrorCode.IO, "cannot read " + jinjaFile + ": " + e.getMessage(), e);
      }
    }
    if (cfg == null || !cfg.has("chat_template") || cfg.get("chat_template").isNull()) {
      return Optional.empty();
    }
    JsonNode t = cfg.get("chat_template");
    if (t.isTextual()) {
      return Optional.of(new ChatTemplate(config + " chat_template", t.asText(), bos, eos));
    }
    if (t.isArray()) {
      for (JsonNode named : t) {
        if ("default".equals(named.path("name").asText()) && named.path("template").isTextual()) {
          return Optional.of(new ChatTemplate(config + " chat_template 'default'", named.get("template").asText(), bos, eos));
        }
      }
      throw new ConfigException(config + ": chat_template is a list without a template named 'default'");
    }
    throw new ConfigException(config + ": chat_template must be a string or a list of {name, template}, got " + t.getNodeType());
  }

  private static String token(Path config, JsonNode cfg, String field) {
    JsonNode v = cfg.get(field);
    if (v == null || v.isNull()) {
      return "";
    }
    if (v.isTextual()) {
      return v.asText();
    }
    if (v.isObject() && v.path("content").isTextual()) {
      return v.get("content").asText(); // AddedToken form
    }
    throw new ConfigException(config + ": " + field + " must be a string or an object with 'content', got " + v);
  }

  private static Jinjava engine() {
    try {
      JinjavaConfig cfg = JinjavaConfig.newBuilder()
          .withLegacyOverrides(LegacyOverrides.newBuilder().withUsePyishObjectMapper(true).build())
          .build();
      Jinjava j = new Jinjava(cfg);
      Method raise = ChatTemplate.class.getDeclaredMethod("raiseException", String.class);
      raise.setAccessible(true); // invoked by Jinjava's EL resolver from another module
      j.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception", raise));
      return j;
    } catch (NoClassDefFoundError e) {
      throw new AphelionException(ErrorCode.IO, "chat templates need the optional dependency com.hubspot.jinjava:jinjava "
          + "on the class or module path: " + e.getMessage(), e);
    } catch (NoSuchMethodException e) {
      throw new IllegalStateException(e);
    }
  }

  /** transformers' {@code raise_exception}: the template refuses the conversation. */
  private static String raiseException(String message) {
    throw new TemplateRefusal(message);
  }

  private static final class TemplateRefusal extends RuntimeException {
    private static final long serialVersionUID = 1L;

    TemplateRefusal(String message) {
      super(message);
    }
  }

  /** The Jinja source. */
  public String template() {
    return template;
  }

  /**
   * Renders a conversation as transformers' {@code apply_chat_template(messages, tokenize=False,
   * add_generation_prompt=...)} does.
   *
   * @param messages the conversation, at least one message
   * @param addGenerationPrompt whether to end with the assistant's turn header
   * @return the prompt text
   * @throws ConfigException if the template fails or refuses the conversation (its message)
   */
  public String render(List<Message> messages, boolean addGenerationPrompt) {
    Objects.requireNonNull(messages, "messages");
    if (messages.isEmpty()) {
      throw new ConfigException("a chat needs at least one message");
    }
    List<Map<String, Object>> msgs = new ArrayList<>();
    for (Message m : messages) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("role", m.role());
      e.put("content", m.content());
      msgs.add(e);
    }
    Map<String, Object> ctx = new HashMap<>();
    ctx.put("messages", msgs);
    ctx.put("add_generation_prompt", addGenerationPrompt);
    ctx.put("bos_token", bosToken);
    ctx.put("eos_token", eosToken);
    RenderResult r;
    try {
      r = jinja.renderForResult(template, ctx);
    } catch (TemplateRefusal e) {
      throw new ConfigException(source + " refused the conversation: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      Throwable c = e;
      while (c != null && !(c instanceof TemplateRefusal)) {
        c = c.getCause();
      }
      if (c != null) {
        throw new ConfigException(source + " refused the conversation: " + c.getMessage(), e);
      }
      throw new ConfigException(source + ": cannot render the chat template: " + e.getMessage(), e);
    }
    for (TemplateError err : r.getErrors()) {
      if (err.getSeverity() == TemplateError.ErrorType.FATAL) {
        Throwable c = err.getException();
        while (c != null && !(c instanceof TemplateRefusal)) {
          c = c.getCause();
        }
        if (c != null) {
          throw new ConfigException(source + " refused the conversation: " + c.getMessage());
        }
        throw new ConfigException(source + ": cannot render the chat template (line " + err.getLineno() + "): " + err.getMessage());
      }
    }
    return r.getOutput();
  }

  @Override
  public String toString() {
    return "ChatTemplate[" + source + "]";
  }
}
