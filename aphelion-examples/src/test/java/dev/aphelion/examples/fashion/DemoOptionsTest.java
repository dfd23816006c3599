package dev.aphelion.examples.fashion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.examples.Demo;
import dev.aphelion.tritter.compress.CompressionConfig;
import dev.aphelion.tritter.compress.GradientEncoding;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DemoOptionsTest {
  @Test
  void defaults() {
    DemoOptions o = DemoOptions.parse();
    assertEquals(FashionMnist.DEFAULT_DIR, o.data());
    assertFalse(o.dataGiven());
    assertEquals(Path.of("demo-output"), o.out());
    assertEquals(DemoOptions.DEFAULT_EPOCHS, o.epochs());
    assertEquals(128, o.batchSize());
    assertEquals(0.002f, o.learningRate());
    assertEquals(Runtime.getRuntime().availableProcessors(), o.workers());
    assertEquals(DemoOptions.DEFAULT_COMPRESSION, o.compression());
    assertEquals("32x", o.compressionLabel());
    assertEquals(CompressionConfig.DEFAULT_ENCODING, o.encoding());
    assertFalse(o.skipBaselines());
    assertEquals(0, o.trainLimit());
    assertEquals(42, o.seed());
    assertFalse(o.tour());
    assertFalse(o.help());
  }

  @Test
  void parsesEveryOption() {
    DemoOptions o = DemoOptions.parse("--data", "/d", "--out", "o", "--epochs", "3", "--batch", "64",
        "--lr", "0.01", "--workers", "4", "--compression", "100", "--encoding", "VSA-sketch",
        "--skip-baselines", "--train-limit", "500", "--seed", "-7", "--tour");
    assertEquals(Path.of("/d"), o.data());
    assertTrue(o.dataGiven());
    assertEquals(Path.of("o"), o.out());
    assertEquals(3, o.epochs());
    assertEquals(64, o.batchSize());
    assertEquals(0.01f, o.learningRate());
    assertEquals(4, o.workers());
    assertEquals("100x", o.compressionLabel());
    assertEquals(GradientEncoding.VSA_SKETCH, o.encoding());
    assertTrue(o.skipBaselines());
    assertEquals(500, o.trainLimit());
    assertEquals(-7, o.seed());
    assertTrue(o.tour());
    assertEquals("2.5x", DemoOptions.parse("--compression=2.5").compressionLabel());
    assertEquals("300x", DemoOptions.parse("--compression=300").compressionLabel(), "DGC's range is accepted");
    DemoOptions cs = DemoOptions.parse("--encoding", "count-sketch", "--sketch-rows", "5");
    assertEquals(dev.aphelion.tritter.compress.GradientEncoding.COUNT_SKETCH, cs.encoding());
    assertEquals(5, cs.sketchRows());
    assertEquals(dev.aphelion.tritter.compress.CompressionConfig.DEFAULT_SKETCH_ROWS, DemoOptions.parse().sketchRows());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      --epochs zero        | --epochs      | 'zero' is not an integer
      --epochs 0           | --epochs      | '0' is not positive
      --lr -1              | --lr          | '-1' is not positive and finite
      --lr Infinity        | --lr          | is not positive and finite
      --compression 0.5    | --compression | '0.5' is not between 1 (no compression) and 1000
      --compression 1500   | --compression | '1500' is not between 1 (no compression) and 1000
      --encoding top-k     | --encoding    | 'top-k' is not one of heavy-hitters, vsa-sketch, count-sketch
      --seed x             | --seed        | 'x'
      --frobnicate         | --frobnicate  | Unknown option
      --skip-baseline      | --skip-baseline | --skip-baselines?
      --sketch-rows 4      | --sketch-rows | must be odd and at most 15
      --sketch-rows 17     | --sketch-rows | must be odd and at most 15
      --data               | --data        | Missing required parameter
      --batch 2 --workers 3| --batch 2     | must be at least --workers 3
      """)
  void badValuesAreNamed(String args, String option, String detail) {
    var e = assertThrows(ConfigException.class, () -> DemoOptions.parse(args.trim().split(" ")));
    assertTrue(e.getMessage().contains(option), e.getMessage());
    assertTrue(e.getMessage().contains(detail), e.getMessage());
  }

  @Test
  void helpIsGeneratedWithEveryOptionAndItsDefault() {
    assertTrue(DemoOptions.parse("--help").help());
    assertTrue(DemoOptions.parse("-h", "--batch", "1", "--workers", "4").help(), "help wins");
    String usage = DemoOptions.usage().replaceAll("\\s+", " ");
    for (String option : new String[] {"--data", "--out", "--epochs", "--batch", "--lr",
        "--workers", "--compression", "--encoding", "--skip-baselines", "--train-limit", "--seed",
        "--tour", "--help"}) {
      assertTrue(usage.contains(option), option + " missing from\n" + usage);
    }
    assertTrue(usage.contains("Usage: ./aphelion demo"), usage);
    assertTrue(usage.contains("default: " + FashionMnist.DEFAULT_DIR), usage);
    assertTrue(usage.contains("heavy-hitters, vsa-sketch, count-sketch (default: heavy-hitters)"), usage);
    assertTrue(usage.contains("--sketch-rows=R rows of the count-sketch encoding, odd, 1 to 15 (default: 3)"), usage);
    assertTrue(usage.contains(Runtime.getRuntime().availableProcessors() + " here"), usage);
    assertTrue(usage.contains(FashionMnist.DEBIAN_PACKAGE), usage);
  }

  @Test
  void demoPrintsHelpAndRejectsBadOptionsWithExitCode2() {
    var out = new ByteArrayOutputStream();
    var err = new ByteArrayOutputStream();
    assertEquals(0, Demo.run(new String[] {"--help"}, print(out), print(err)));
    assertEquals(DemoOptions.usage(), out.toString(StandardCharsets.UTF_8));
    out.reset();
    assertEquals(2, Demo.run(new String[] {"--encoding", "top-k"}, print(out), print(err)));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("--encoding"), err.toString());
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("try --help"), err.toString());
  }

  static PrintStream print(ByteArrayOutputStream bytes) {
    return new PrintStream(bytes, true, StandardCharsets.UTF_8);
  }
}
