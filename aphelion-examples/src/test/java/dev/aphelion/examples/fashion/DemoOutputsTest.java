package dev.aphelion.examples.fashion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aphelion.examples.fashion.nn.EpochStats;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's outputs: written atomically, summary last, naming the chart it belongs to. */
class DemoOutputsTest {
  @TempDir Path dir;

  private static List<TrainingChart.Series> series(double accuracy) {
    return List.of(new TrainingChart.Series("ternary", TrainingChart.PALETTE.get(0),
        List.of(new EpochStats(1, 1.0, 0.5, 0.9, accuracy, 1), new EpochStats(2, 0.5, 0.7, 0.6, accuracy + 0.1, 1))));
  }

  @Test
  void summaryNamesTheChartItWasWrittenWithAndReplacesThePreviousPair() throws Exception {
    FashionDemo.writeOutputs(dir, Map.of("run", "first"), "first", series(0.5));
    String firstHash = chartHashIn(dir);
    assertEquals(FashionDemo.sha256(Files.readAllBytes(dir.resolve("training.png"))), firstHash);

    FashionDemo.writeOutputs(dir, Map.of("run", "second"), "second", series(0.6));
    String secondHash = chartHashIn(dir);
    assertNotEquals(firstHash, secondHash);
    assertEquals(FashionDemo.sha256(Files.readAllBytes(dir.resolve("training.png"))), secondHash,
        "the summary belongs to the chart beside it");
    assertEquals("second", new ObjectMapper().readTree(dir.resolve("summary.json").toFile()).get("run").asText());
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(List.of("summary.json", "training.png"), files.map(p -> p.getFileName().toString()).sorted().toList(),
          "no temporary files left behind");
    }
  }

  private static String chartHashIn(Path dir) throws Exception {
    JsonNode chart = new ObjectMapper().readTree(dir.resolve("summary.json").toFile()).get("chart");
    assertEquals("training.png", chart.get("file").asText());
    return chart.get("sha256").asText();
  }
}
