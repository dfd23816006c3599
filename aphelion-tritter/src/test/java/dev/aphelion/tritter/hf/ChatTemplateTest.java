package dev.aphelion.tritter.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aphelion.core.error.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChatTemplateTest {

  /** Meta Llama 3 Instruct's template (the tokenizer family of BitNet b1.58 2B4T). */
  static final String LLAMA3 = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
      + "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}"
      + "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
      + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

  /** A BitNet-style template: role prefixes, an elif chain, loop.first, and a refusal. */
  static final String ROLES = "{% for message in messages %}{% if loop.first %}{{ bos_token }}{% endif %}"
      + "{% if message['role'] == 'system' %}{{ 'System: ' + message['content'] + '<|eot_id|>' }}"
      + "{% elif message['role'] == 'user' %}{{ 'User: ' + message['content'] + '<|eot_id|>' }}"
      + "{% elif message['role'] == 'assistant' %}{{ 'Assistant: ' + message['content'] + eos_token }}"
      + "{% else %}{{ raise_exception('unknown role ' + message['role']) }}{% endif %}{% endfor %}"
      + "{% if add_generation_prompt %}{{ 'Assistant: ' }}{% endif %}";

  static final List<ChatTemplate.Message> CHAT = List.of(new ChatTemplate.Message("system", "  Be brief. "),
      new ChatTemplate.Message("user", "Hi"));

  @Test
  void llama3TemplateRendersAsTransformersDoes() {
    ChatTemplate t = ChatTemplate.of(LLAMA3, "<|begin_of_text|>", "<|eot_id|>");
    assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
        + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
        t.render(CHAT, true));
    assertTrue(t.render(CHAT, false).endsWith("Hi<|eot_id|>"));
  }

  @Test
  void rolesTemplateAndRaiseException() {
    ChatTemplate t = ChatTemplate.of(ROLES, "<s>", "</s>");
    assertEquals("<s>System:   Be brief. <|eot_id|>User: Hi<|eot_id|>Assistant: ", t.render(CHAT, true));
    ConfigException e = assertThrows(ConfigException.class, () -> t.render(List.of(new ChatTemplate.Message("tool", "x")), true));
    assertTrue(e.getMessage().contains("refused the conversation: unknown role tool"), e.getMessage());
    assertThrows(ConfigException.class, () -> t.render(List.of(), true));
  }

  @Test
  void brokenTemplateIsAClearError() {
    ChatTemplate t = ChatTemplate.of("{% for m in messages %}{{ m['content'] }", "", "");
    ConfigException e = assertThrows(ConfigException.class, () -> t.render(CHAT, true));
    assertTrue(e.getMessage().contains("cannot render the chat template"), e.getMessage());
  }

  @Test
  void loadsFromTokenizerConfigOrJinjaFile(@TempDir Path dir) throws Exception {
    ObjectMapper json = new ObjectMapper();
    assertTrue(ChatTemplate.load(dir).isEmpty());
    ObjectNode cfg = json.createObjectNode();
    cfg.put("chat_template", ROLES);
    cfg.set("bos_token", json.valueToTree(Map.of("content", "<|begin_of_text|>", "lstrip", false)));
    cfg.put("eos_token", "<|eot_id|>");
    Files.writeString(dir.resolve("tokenizer_config.json"), json.writeValueAsString(cfg));
    ChatTemplate t = ChatTemplate.load(dir).orElseThrow();
    assertEquals("<|begin_of_text|>User: Hi<|eot_id|>Assistant: ", t.render(List.of(new ChatTemplate.Message("user", "Hi")), true));
    // a named list picks 'default'
    cfg.set("chat_template", json.valueToTree(List.of(Map.of("name", "tool_use", "template", "x"), Map.of("name", "default", "template", LLAMA3))));
    Files.writeString(dir.resolve("tokenizer_config.json"), json.writeValueAsString(cfg));
    assertEquals(LLAMA3, ChatTemplate.load(dir).orElseThrow().template());
    cfg.put("chat_template", 3);
    Files.writeString(dir.resolve("tokenizer_config.json"), json.writeValueAsString(cfg));
    ConfigException e = assertThrows(ConfigException.class, () -> ChatTemplate.load(dir));
    assertTrue(e.getMessage().contains("chat_template must be a string"), e.getMessage());
    // chat_template.jinja (transformers 5 writes the template there) wins
    Files.writeString(dir.resolve("chat_template.jinja"), "{{ bos_token }}{{ messages[0]['content'] }}");
    assertEquals("<|begin_of_text|>Hi", ChatTemplate.load(dir).orElseThrow().render(List.of(new ChatTemplate.Message("user", "Hi")), false));
  }
}
