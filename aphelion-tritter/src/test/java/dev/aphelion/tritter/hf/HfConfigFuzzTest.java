package dev.aphelion.tritter.hf;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.fuzz.Fuzz;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hugging Face {@code config.json} and {@code model.safetensors.index.json} under mutation: each
 * case is read into a configuration (or an open sharded checkpoint) or rejected with the
 * library's exception, within a bounded allocation (64 MiB: the first case also pays for loading
 * the JSON reader's classes; a config is a few hundred bytes, so anything near the bound is a
 * size taken from the input).
 */
class HfConfigFuzzTest {
  private static final Path FIXTURES = Path.of("src/test/resources/hf");

  @TempDir Path dir;

  @Test
  void configJsonIsReadOrRejected() throws Exception {
    List<byte[]> seeds = List.of(
        Files.readAllBytes(FIXTURES.resolve("bitnet-master/config.json")),
        Files.readAllBytes(FIXTURES.resolve("bitnet-packed/config.json")));
    Path file = dir.resolve("config.json");
    Fuzz.Stats stats = Fuzz.run("hf-config", seeds, n -> 64L * 1024 * 1024 + 64L * n, input -> {
      Files.write(file, input);
      HfConfig c = HfConfig.read(file);
      assertTrue(c.toString() != null);
    });
    assertTrue(stats.accepted() > 0, "some mutations stay valid configurations: " + stats);
  }

  @Test
  void shardIndexIsReadOrRejected() throws Exception {
    Path model = dir.resolve("model");
    Files.createDirectories(model);
    try (var files = Files.list(FIXTURES.resolve("bitnet-master"))) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Files.copy(p, model.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Path index = model.resolve(HfCheckpoint.INDEX_FILE);
    List<byte[]> seeds = List.of(Files.readAllBytes(index));
    Fuzz.Stats stats = Fuzz.run("hf-index", seeds, n -> 64L * 1024 * 1024 + 64L * n, input -> {
      Files.write(index, input);
      try (HfCheckpoint checkpoint = HfCheckpoint.open(model)) {
        assertTrue(checkpoint != null);
      }
    });
    assertTrue(stats.accepted() > 0, "some mutations stay valid indexes: " + stats);
  }
}
