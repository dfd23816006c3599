package dev.aphelion.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.aphelion.tritter.hf.HfModel;
import dev.aphelion.tritter.hf.HfTokenizer;
import dev.aphelion.tritter.model.Generation;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/user-guide.md's five lines for a Hugging Face checkpoint, on the transformers-made fixture. */
class UserGuideSnippetTest {

  @Test
  void fiveLinesRunARealCheckpointDirectory() {
    Path dir = Path.of("../aphelion-tritter/src/test/resources/hf/bitnet-packed");
    String text;
    // the snippet, with the fixture's directory for bitnet-b1.58-2B-4T
    HfModel m = HfModel.load(dir);
    try (HfTokenizer tok = HfTokenizer.load(m.directory())) {
      Generation.Result r = Generation.run(m.model(), tok.encode("The capital of France is"),
          Generation.Options.greedy(32).withStopTokens(m.stopTokens()), null);
      text = tok.decode(r.tokens(), true);
      assertEquals(r.tokens().length == 32 ? Generation.StopReason.MAX_TOKENS : Generation.StopReason.STOP_TOKEN, r.stopReason());
      assertFalse(r.tokens().length == 0);
    }
    assertFalse(text == null);
  }
}
