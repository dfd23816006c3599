package dev.aphelion.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aphelion.core.error.ConfigException;
import dev.aphelion.tritter.model.Generation;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import dev.aphelion.tritter.hf.HfTokenizer;
import dev.aphelion.tritter.kernel.RowPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The generate command on the BitNet fixtures that transformers made (aphelion-tritter's test resources). */
class GenerateTest {
  private static final Path FIXTURES = Path.of("../aphelion-tritter/src/test/resources/hf");

  @Test
  void streamsTheGreedyContinuationTransformersComputed() throws Exception {
    JsonNode exp = new ObjectMapper().readTree(FIXTURES.resolve("expected.json").toFile());
    JsonNode greedy = exp.get("forms").get("packed").get("greedy");
    int[] want = new int[greedy.size()];
    for (int i = 0; i < want.length; i++) {
      want[i] = greedy.get(i).asInt();
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Generate.Args a = Generate.Args.parse(new String[] {"--model", FIXTURES.resolve("bitnet-packed").toString(), "--prompt",
        "Hello, world", "--max-tokens", String.valueOf(want.length), "--ignore-eos"});
    Generation.Result r = Generate.run(a, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    assertArrayEquals(want, r.tokens());
    String text = out.toString(StandardCharsets.UTF_8);
    String log = err.toString(StandardCharsets.UTF_8);
    assertTrue(text.startsWith("Hello, world"), text);
    assertTrue(log.contains("prompt: 13 tokens") && log.contains("generation: " + want.length + " tokens"), log);
    // the int8 head (default) and the f32 one both give transformers' tokens
    Generate.Args f32 = Generate.Args.parse(new String[] {"--model", FIXTURES.resolve("bitnet-packed").toString(), "--prompt",
        "Hello, world", "--max-tokens", String.valueOf(want.length), "--ignore-eos", "--f32-head"});
    ByteArrayOutputStream err2 = new ByteArrayOutputStream();
    assertArrayEquals(want, Generate.run(f32, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        new PrintStream(err2, true, StandardCharsets.UTF_8)).tokens());
    assertTrue(log.contains("embedding/head int8"), log);
    assertTrue(err2.toString(StandardCharsets.UTF_8).contains("embedding/head f32"), err2.toString(StandardCharsets.UTF_8));
  }

  @Test
  void chatWrapsThePromptInTheModelsTemplate(@TempDir Path dir) throws Exception {
    Path model = dir.resolve("model");
    Files.createDirectories(model);
    try (Stream<Path> files = Files.list(FIXTURES.resolve("bitnet-packed"))) {
      for (Path f : files.toList()) {
        Files.copy(f, model.resolve(f.getFileName()));
      }
    }
    String template = "{{ bos_token }}{% for m in messages %}{{ m['role'] + ': ' + m['content'] + '\\n' }}{% endfor %}"
        + "{% if add_generation_prompt %}{{ 'assistant:' }}{% endif %}";
    Files.writeString(model.resolve("tokenizer_config.json"), "{\"chat_template\": \"" + template + "\", \"bos_token\": \"\"}");
    String[] args = {"--model", model.toString(), "--prompt", "Hello", "--chat", "--system", "Be brief", "--max-tokens", "2",
        "--ignore-eos", "--threads", String.valueOf(RowPool.shared().parallelism())};
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Generation.Result r = Generate.run(Generate.Args.parse(args), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    int expected;
    try (HfTokenizer tok = HfTokenizer.load(model)) {
      expected = tok.encode("system: Be brief\nuser: Hello\nassistant:", false).length;
    }
    String log = err.toString(StandardCharsets.UTF_8);
    assertTrue(log.contains("prompt: " + expected + " tokens"), log);
    assertTrue(r.promptTokens() == expected, log);
    // without a template, --chat is a clear error
    ConfigException e = assertThrows(ConfigException.class, () -> Generate.run(Generate.Args.parse(new String[] {"--model",
        FIXTURES.resolve("bitnet-packed").toString(), "--prompt", "x", "--chat"}), System.out, System.err));
    assertTrue(e.getMessage().contains("has no chat template"), e.getMessage());
  }

  @Test
  void badOptionsAreClearErrors() {
    ConfigException t = assertThrows(ConfigException.class, () -> Generate.Args.parse(new String[] {"--model", "x", "--prompt", "p", "--threads", "0"}));
    assertTrue(t.getMessage().contains("--threads"), t.getMessage());
    t = assertThrows(ConfigException.class, () -> Generate.Args.parse(new String[] {"--model", "x", "--prompt", "p", "--system", "s"}));
    assertTrue(t.getMessage().contains("--system needs --chat"), t.getMessage());
    ConfigException e = assertThrows(ConfigException.class, () -> Generate.Args.parse(new String[] {"--model", "x"}));
    assertTrue(e.getMessage().contains("--prompt"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> Generate.Args.parse(new String[] {"--model", "x", "--prompt", "p", "--top-p", "high"}));
    assertTrue(e.getMessage().contains("--top-p"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> Generate.Args.parse(new String[] {"--modle", "x"}));
    assertTrue(e.getMessage().contains("--modle"), e.getMessage());
  }
}
