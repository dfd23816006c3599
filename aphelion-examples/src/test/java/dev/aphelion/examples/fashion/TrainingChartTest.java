package dev.aphelion.examples.fashion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.examples.fashion.nn.EpochStats;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.xy.XYSeriesCollection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingChartTest {
  @TempDir Path dir;

  private static List<TrainingChart.Series> threeRuns(int epochs) {
    List<TrainingChart.Series> series = new ArrayList<>();
    for (int s = 0; s < 3; s++) {
      List<EpochStats> list = new ArrayList<>();
      for (int e = 1; e <= epochs; e++) {
        list.add(new EpochStats(
            e, 1.0 / e + s * 0.05, 0.7 + e * 0.04, 0.9 / e, 0.72 + e * 0.03 - s * 0.01, 1));
      }
      series.add(new TrainingChart.Series("run " + s, TrainingChart.PALETTE.get(s), list));
    }
    return series;
  }

  @Test
  void writesADecodablePngOfTheRightSizeWithEveryRunsColour() throws Exception {
    Path png = dir.resolve("sub/training.png");
    TrainingChart.write(png, "test", threeRuns(5));

    BufferedImage img = ImageIO.read(png.toFile());
    assertNotNull(img, "not a decodable image");
    assertEquals(TrainingChart.WIDTH, img.getWidth());
    assertEquals(TrainingChart.HEIGHT, img.getHeight());
    boolean[] seen = new boolean[3];
    long nonWhite = 0;
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        int rgb = img.getRGB(x, y) & 0xFFFFFF;
        nonWhite += rgb != 0xFFFFFF ? 1 : 0;
        for (int s = 0; s < 3; s++) {
          seen[s] |= rgb == (TrainingChart.PALETTE.get(s).getRGB() & 0xFFFFFF);
        }
      }
    }
    assertArrayEquals(new boolean[] {true, true, true}, seen);
    // axes, grid, text and six curves: well above a blank page, well below a filled one
    double inked = nonWhite / (double) (img.getWidth() * img.getHeight());
    assertTrue(inked > 0.01 && inked < 0.5, "inked fraction " + inked);
    assertTrue(Files.size(png) > 10_000);
    // the common title is drawn in the band above the two panels
    assertTrue(darkPixels(img, 0, 40) > 200, "no title drawn");
  }

  private static int darkPixels(BufferedImage img, int fromRow, int toRow) {
    int n = 0;
    for (int y = fromRow; y < toRow; y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        n += (img.getRGB(x, y) & 0xFF) < 0x40 ? 1 : 0;
      }
    }
    return n;
  }

  @Test
  void thePanelsPlotTheRunsNumbers() {
    List<TrainingChart.Series> runs = threeRuns(4);
    XYSeriesCollection loss = dataset(TrainingChart.lossChart(runs));
    assertEquals(6, loss.getSeriesCount());
    assertEquals("run 1", loss.getSeriesKey(2));
    EpochStats e3 = runs.get(1).epochs().get(2);
    assertEquals(3, loss.getSeries(2).getX(2).intValue());
    assertEquals(e3.trainLoss(), loss.getSeries(2).getY(2).doubleValue(), 1e-12);
    assertEquals(e3.testLoss(), loss.getSeries(3).getY(2).doubleValue(), 1e-12);
    // test-loss curves are dashed twins and stay out of the legend
    assertEquals(3, TrainingChart.lossChart(runs).getXYPlot().getLegendItems().getItemCount());

    XYSeriesCollection acc = dataset(TrainingChart.accuracyChart(runs));
    assertEquals(3, acc.getSeriesCount());
    assertEquals(100 * e3.testAccuracy(), acc.getSeries(1).getY(2).doubleValue(), 1e-9);
    double last = 100 * runs.get(1).epochs().getLast().testAccuracy();
    assertEquals(String.format(java.util.Locale.ROOT, "run 1  (%.2f%%)", last), acc.getSeriesKey(1));
  }

  @Test
  void rendersOneEpochAndEmptyRunsWithoutFailing() {
    List<TrainingChart.Series> runs = new ArrayList<>(threeRuns(1));
    runs.add(new TrainingChart.Series("empty", TrainingChart.PALETTE.get(3), List.of()));
    BufferedImage img = TrainingChart.render("one epoch", runs);
    assertEquals(TrainingChart.WIDTH, img.getWidth());
    assertFalse(dataset(TrainingChart.accuracyChart(runs)).getSeries(3).getItemCount() > 0);
  }

  private static XYSeriesCollection dataset(JFreeChart chart) {
    XYPlot plot = chart.getXYPlot();
    return (XYSeriesCollection) plot.getDataset();
  }
}
