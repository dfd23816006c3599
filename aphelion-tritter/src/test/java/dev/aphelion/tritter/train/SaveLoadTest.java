package dev.aphelion.tritter.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.SerializationException;
import dev.aphelion.tritter.io.SafeTensorsFile;
import dev.aphelion.tritter.io.SafeTensorsWriter;
import dev.aphelion.tritter.io.TernaryTensors;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A trained network through safetensors and back, without retraining. */
class SaveLoadTest {

  @Test
  void aTrainedNetworkSurvivesSafetensorsBitForBit(@TempDir Path dir) {
    Examples train = SyntheticDigits.generate(300, 3);
    Examples test = SyntheticDigits.generate(200, 4);
    Sequential model = Sequential.builder(64).rmsNorm().ternary(32).activation(Activation.SILU).rmsNorm().dense(10).build(8);
    DataParallelTrainer.fit(model, train, null, TrainingConfig.of(2, 32, LearningRateSchedule.warmupCosine(0.01, 4)), 1,
        ExchangeSettings.float32());
    InferenceNetwork net = model.export();
    Path file = dir.resolve("digits.safetensors");
    net.save(file);
    try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
      assertTrue(TernaryTensors.contains(f, "layers.1"), "the ternary layer is stored packed: " + f.names());
      assertEquals("5", f.metadata().get(InferenceNetwork.STAGES_KEY));
    }
    InferenceNetwork back = InferenceNetwork.load(file);
    assertEquals(net.stages().size(), back.stages().size());
    assertArrayEquals(net.forward(test.features(), test.count()), back.forward(test.features(), test.count()));
    assertArrayEquals(model.forward(test.features(), test.count()), back.forward(test.features(), test.count()));
  }

  @Test
  void aFileThatIsNotANetworkIsRefusedWithTheReason(@TempDir Path dir) {
    Path plain = dir.resolve("plain.safetensors");
    new SafeTensorsWriter().addF32("x", new long[] {2}, new float[] {1, 2}).write(plain);
    SerializationException e = assertThrows(SerializationException.class, () -> InferenceNetwork.load(plain));
    assertTrue(e.getMessage().contains(InferenceNetwork.STAGES_KEY), e.getMessage());

    Path unknown = dir.resolve("unknown.safetensors");
    new SafeTensorsWriter().addF32("x", new long[] {1}, new float[] {1}).metadata(InferenceNetwork.STAGES_KEY, "1")
        .metadata("layers.0", "{\"kind\":\"activation\",\"function\":\"GELU\",\"width\":4}").write(unknown);
    e = assertThrows(SerializationException.class, () -> InferenceNetwork.load(unknown));
    assertTrue(e.getMessage().contains("GELU") && e.getMessage().contains("RELU"), e.getMessage());
  }
}
