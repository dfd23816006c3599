package dev.aphelion.tritter.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.AphelionException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The fixtures' byte-level BPE tokenizer.json (make_byte_tokenizer.py) through the DJL binding, offline. */
class HfTokenizerTest {

  @Test
  void encodesThePromptOfTheFixturesAndDecodesBack() throws Exception {
    int[] expected = HfBitNetFixtureTest.ints(HfBitNetFixtureTest.expected().get("prompt_ids"));
    try (HfTokenizer t = HfTokenizer.load(HfBitNetFixtureTest.fixtures().resolve("bitnet-packed"))) {
      assertArrayEquals(expected, t.encode("Hello, world"));
      assertArrayEquals(java.util.Arrays.copyOfRange(expected, 1, expected.length), t.encode("Hello, world", false));
      assertEquals("Hello, world", t.decode(expected, true));
    }
  }

  @Test
  void streamingHoldsBackSplitCharacters() throws Exception {
    try (HfTokenizer t = HfTokenizer.load(HfBitNetFixtureTest.fixtures().resolve("bitnet-packed/tokenizer.json"))) {
      int[] ids = t.encode("a€b", false);
      assertEquals(5, ids.length, "one token per byte: a, three bytes of €, b");
      HfTokenizer.StreamDecoder d = t.streamDecoder();
      StringBuilder out = new StringBuilder();
      String[] parts = new String[ids.length];
      for (int i = 0; i < ids.length; i++) {
        parts[i] = d.add(ids[i]);
        out.append(parts[i]);
      }
      assertEquals("a", parts[0]);
      assertEquals("", parts[1]);
      assertEquals("", parts[2]);
      assertEquals("€", parts[3]);
      assertEquals("a€b", out.toString());
      assertEquals("a€b", d.text());
    }
  }

  @Test
  void missingFileIsAClearError() {
    AphelionException e = assertThrows(AphelionException.class, () -> HfTokenizer.load(Path.of("no/such/dir")));
    assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
  }
}
