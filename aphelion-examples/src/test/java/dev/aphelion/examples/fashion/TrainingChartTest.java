package dev.aphelion.examples.fashion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.examples.fashion.nn.EpochStats;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingChartTest {
  @TempDir Path dir;

  @Test
  void writesAPngWithEveryRunsColour() throws Exception {
    List<TrainingChart.Series> series = new ArrayList<>();
    for (int s = 0; s < 3; s++) {
      List<EpochStats> epochs = new ArrayList<>();
      for (int e = 1; e <= 5; e++) {
        epochs.add(new EpochStats(e, 1.0 / e + s * 0.05, 0.7 + e * 0.04, 0.9 / e, 0.72 + e * 0.03 - s * 0.01, 1));
      }
      series.add(new TrainingChart.Series("run " + s, TrainingChart.PALETTE.get(s), epochs));
    }
    Path png = dir.resolve("sub/training.png");
    TrainingChart.write(png, "test", series);
    BufferedImage img = ImageIO.read(png.toFile());
    assertEquals(1400, img.getWidth());
    boolean[] seen = new boolean[3];
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        int rgb = img.getRGB(x, y) & 0xFFFFFF;
        for (int s = 0; s < 3; s++) {
          seen[s] |= rgb == (TrainingChart.PALETTE.get(s).getRGB() & 0xFFFFFF);
        }
      }
    }
    assertArrayEquals(new boolean[] {true, true, true}, seen);
    assertTrue(Files.size(png) > 10_000);
  }

  @Test
  void niceRangesHaveRoundSteps() {
    assertArrayEquals(new double[] {0.2, 0.9, 0.1}, TrainingChart.niceRange(0.25, 0.83), 1e-9);
    assertArrayEquals(new double[] {80, 90, 2}, TrainingChart.niceRange(81.3, 89.9), 1e-9);
  }
}
