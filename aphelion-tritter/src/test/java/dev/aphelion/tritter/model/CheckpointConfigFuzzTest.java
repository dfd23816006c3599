package dev.aphelion.tritter.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.aphelion.core.fuzz.Fuzz;
import dev.aphelion.tritter.io.SafeTensorsFile;
import dev.aphelion.tritter.io.SafeTensorsWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The decoder configuration JSON a checkpoint carries in its metadata (Hugging Face style keys
 * of the model's shape), under mutation: {@link DecoderModel#load} either loads a model whose
 * configuration is the one written, or throws the library's exception, and never allocates for
 * a size the weights do not back.
 */
class CheckpointConfigFuzzTest {

  @TempDir Path dir;

  @Test
  void checkpointConfigsLoadOrAreRejected() throws Exception {
    DecoderConfig config = DecoderConfig.builder().vocabSize(37).hiddenSize(32).numLayers(2).numHeads(4).numKvHeads(2).ffnSize(48).build();
    Path original = dir.resolve("model.safetensors");
    DecoderModel.random(config, Precision.TERNARY, 5).save(original);
    String json;
    Map<String, byte[]> tensors = new java.util.LinkedHashMap<>();
    Map<String, String> metadata;
    Map<String, dev.aphelion.tritter.io.TensorInfo> infos = new java.util.LinkedHashMap<>();
    try (SafeTensorsFile f = SafeTensorsFile.open(original)) {
      json = f.metadata().get(DecoderModel.CONFIG_METADATA_KEY);
      metadata = f.metadata();
      for (String n : f.names()) {
        tensors.put(n, f.bytes(n));
        infos.put(n, f.info(n));
      }
    }
    Path file = dir.resolve("case.safetensors");
    Fuzz.run("checkpoint-config", List.of(json.getBytes(StandardCharsets.UTF_8)), n -> 64L * 1024 * 1024, input -> {
      SafeTensorsWriter w = new SafeTensorsWriter();
      tensors.forEach((n, b) -> w.add(n, infos.get(n).dtype(), infos.get(n).shape(), b));
      metadata.forEach(w::metadata);
      String mutated = new String(input, StandardCharsets.UTF_8);
      w.metadata(DecoderModel.CONFIG_METADATA_KEY, mutated);
      w.write(file);
      DecoderModel m = DecoderModel.load(file, Precision.TERNARY);
      assertEquals(m.config().vocabSize() > 0, true);
    });
  }
}
