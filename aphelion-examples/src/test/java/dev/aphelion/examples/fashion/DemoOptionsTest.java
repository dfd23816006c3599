package dev.aphelion.examples.fashion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ConfigException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class DemoOptionsTest {
  @Test
  void defaults() {
    DemoOptions o = DemoOptions.parse();
    assertEquals(FashionMnist.DEFAULT_DIR, o.data());
    assertFalse(o.dataGiven());
    assertEquals(DemoOptions.DEFAULT_EPOCHS, o.epochs());
    assertEquals(Runtime.getRuntime().availableProcessors(), o.workers());
    assertEquals(DemoOptions.DEFAULT_COMPRESSION, o.compression());
  }

  @Test
  void parsesEveryOption() {
    DemoOptions o = DemoOptions.parse("--data", "/d", "--out", "o", "--epochs", "3", "--batch", "64",
        "--lr", "0.01", "--workers", "4", "--compression", "100", "--encoding", "vsa-sketch", "--skip-baselines",
        "--train-limit", "500", "--seed", "-7", "--tour");
    assertEquals(Path.of("/d"), o.data());
    assertTrue(o.dataGiven());
    assertEquals(Path.of("o"), o.out());
    assertEquals(3, o.epochs());
    assertEquals(64, o.batchSize());
    assertEquals(0.01f, o.learningRate());
    assertEquals(4, o.workers());
    assertEquals("100x", o.compressionLabel());
    assertEquals(dev.aphelion.tritter.compress.GradientEncoding.VSA_SKETCH, o.encoding());
    assertTrue(o.skipBaselines());
    assertEquals(500, o.trainLimit());
    assertEquals(-7, o.seed());
    assertTrue(o.tour());
  }

  @Test
  void badOptionsAreNamed() {
    var e = assertThrows(ConfigException.class, () -> DemoOptions.parse("--epochs", "zero"));
    assertTrue(e.getMessage().contains("--epochs needs an integer, got 'zero'"), e.getMessage());
    assertThrows(ConfigException.class, () -> DemoOptions.parse("--epochs", "0"));
    assertThrows(ConfigException.class, () -> DemoOptions.parse("--compression", "0.5"));
    assertThrows(ConfigException.class, () -> DemoOptions.parse("--compression", "150"));
    assertThrows(ConfigException.class, () -> DemoOptions.parse("--frobnicate"));
    assertThrows(ConfigException.class, () -> DemoOptions.parse("--encoding", "top-k"));
    var m = assertThrows(ConfigException.class, () -> DemoOptions.parse("--data"));
    assertTrue(m.getMessage().contains("--data needs a value"), m.getMessage());
    assertThrows(ConfigException.class, () -> DemoOptions.parse("--batch", "2", "--workers", "3"));
  }

  @Test
  void missingDataWithGivenDirectoryPrintsTheCommandAndStops(@org.junit.jupiter.api.io.TempDir Path dir) {
    var buf = new java.io.ByteArrayOutputStream();
    int rc = FashionDemo.run(new String[] {"--data", dir.toString()}, new java.io.PrintStream(buf, true));
    assertEquals(2, rc);
    String out = buf.toString();
    assertTrue(out.contains("sudo apt-get install -y dataset-fashion-mnist"), out);
    assertTrue(out.contains("train-images-idx3-ubyte"), out);
  }
}
