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
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

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
  }

  @Test
  void badOptionsAreClearErrors() {
    ConfigException e = assertThrows(ConfigException.class, () -> Generate.Args.parse(new String[] {"--model", "x"}));
    assertTrue(e.getMessage().contains("--prompt"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> Generate.Args.parse(new String[] {"--model", "x", "--prompt", "p", "--top-p", "high"}));
    assertTrue(e.getMessage().contains("--top-p"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> Generate.Args.parse(new String[] {"--modle", "x"}));
    assertTrue(e.getMessage().contains("--modle"), e.getMessage());
  }
}
