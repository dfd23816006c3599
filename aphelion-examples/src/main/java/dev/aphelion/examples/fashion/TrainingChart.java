package dev.aphelion.examples.fashion;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.examples.fashion.nn.EpochStats;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Shape;
import java.awt.Stroke;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import dev.aphelion.core.io.AtomicFiles;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTitleAnnotation;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.block.ColumnArrangement;
import org.jfree.chart.block.RectangleConstraint;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Draws the training curves of several runs as a PNG with JFreeChart: loss per epoch on the left
 * (training loss solid, test loss dashed) and test accuracy per epoch on the right, one colour per
 * run, under a common title. It draws into an image, so it needs no display; the demo runs with
 * {@code java.awt.headless=true}.
 */
public final class TrainingChart {
  /**
   * One run's curve.
   *
   * @param name the legend text
   * @param color the line colour
   * @param epochs the run's per-epoch numbers
   */
  public record Series(String name, Color color, List<EpochStats> epochs) {}

  /** Colours that stay distinct for colour-blind readers (Okabe–Ito). */
  public static final List<Color> PALETTE =
      List.of(new Color(0x0072B2), new Color(0xD55E00), new Color(0x009E73), new Color(0xCC79A7));

  /** The image width in pixels. */
  public static final int WIDTH = 1400;

  /** The image height in pixels. */
  public static final int HEIGHT = 560;

  private static final int TITLE_HEIGHT = 50;
  private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 20);
  private static final Font LABEL = new Font(Font.SANS_SERIF, Font.PLAIN, 15);
  private static final Font TICK = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
  private static final Stroke SOLID =
      new BasicStroke(2.6f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
  private static final Stroke DASHED = new BasicStroke(
      2.0f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f, new float[] {8f, 6f}, 0f);
  private static final Shape DOT = new Ellipse2D.Double(-4, -4, 8, 8);

  private TrainingChart() {}

  /**
   * Renders the chart.
   *
   * @param title the title above both panels
   * @param series the runs
   * @return the image, {@link #WIDTH} by {@link #HEIGHT}
   */
  public static BufferedImage render(String title, List<Series> series) {
    BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, WIDTH, HEIGHT);
      TextTitle heading = new TextTitle(title, TITLE);
      heading.arrange(g, RectangleConstraint.NONE.toFixedWidth(WIDTH));
      heading.draw(g, new Rectangle2D.Double(0, 0, WIDTH, TITLE_HEIGHT));
      double half = WIDTH / 2.0;
      double h = HEIGHT - TITLE_HEIGHT;
      lossChart(series).draw(g, new Rectangle2D.Double(0, TITLE_HEIGHT, half, h));
      accuracyChart(series).draw(g, new Rectangle2D.Double(half, TITLE_HEIGHT, half, h));
    } finally {
      g.dispose();
    }
    return img;
  }

  /**
   * Renders the chart and writes it as a PNG file, creating parent directories.
   *
   * @param file the PNG file
   * @param title the title
   * @param series the runs
   */
  public static void write(Path file, String title, List<Series> series) {
    byte[] png = png(title, series);
    try {
      if (file.toAbsolutePath().getParent() != null) {
        Files.createDirectories(file.toAbsolutePath().getParent());
      }
    } catch (IOException e) {
      throw new AphelionException(ErrorCode.IO, "cannot write chart " + file + ": " + e, e);
    }
    AtomicFiles.write(file, png);
  }

  /**
   * Renders the chart as PNG bytes.
   *
   * @param title the title
   * @param series the runs
   * @return the PNG file's content
   */
  public static byte[] png(String title, List<Series> series) {
    BufferedImage img = render(title, series);
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 16);
      ChartUtils.writeBufferedImageAsPNG(out, img);
      return out.toByteArray();
    } catch (IOException e) {
      throw new AphelionException(ErrorCode.IO, "cannot encode the chart as PNG: " + e, e);
    }
  }

  /** The left panel: training loss (solid) and test loss (dashed, not in the legend) per run. */
  static JFreeChart lossChart(List<Series> series) {
    XYSeriesCollection data = new XYSeriesCollection();
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
    for (int i = 0; i < series.size(); i++) {
      Series s = series.get(i);
      data.addSeries(curve(s.name(), s.epochs(), EpochStats::trainLoss, 1));
      data.addSeries(curve(s.name() + " (test)", s.epochs(), EpochStats::testLoss, 1));
      style(renderer, 2 * i, s.color(), SOLID);
      style(renderer, 2 * i + 1, s.color(), DASHED);
      renderer.setSeriesVisibleInLegend(2 * i + 1, false);
    }
    // the curves fall, so the legend goes to the upper right
    return panel("Loss (solid: training, dashed: test)", "cross-entropy", data, renderer,
        RectangleAnchor.TOP_RIGHT, 0.98, 0.98);
  }

  /** The right panel: test accuracy in percent per run, the final accuracy in the legend. */
  static JFreeChart accuracyChart(List<Series> series) {
    XYSeriesCollection data = new XYSeriesCollection();
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
    for (int i = 0; i < series.size(); i++) {
      Series s = series.get(i);
      String name = s.epochs().isEmpty() ? s.name() : String.format(Locale.ROOT, "%s  (%.2f%%)",
          s.name(), 100 * s.epochs().getLast().testAccuracy());
      data.addSeries(curve(name, s.epochs(), EpochStats::testAccuracy, 100));
      style(renderer, i, s.color(), SOLID);
    }
    // the curves rise, so the legend goes to the lower right
    return panel("Test accuracy", "accuracy (%)", data, renderer,
        RectangleAnchor.BOTTOM_RIGHT, 0.98, 0.02);
  }

  private static XYSeries curve(
      String key, List<EpochStats> epochs, ToDoubleFunction<EpochStats> f, double scale) {
    XYSeries xy = new XYSeries(key, false, true);
    for (EpochStats e : epochs) {
      xy.add(e.epoch(), f.applyAsDouble(e) * scale);
    }
    return xy;
  }

  private static void style(XYLineAndShapeRenderer r, int index, Color color, Stroke stroke) {
    r.setSeriesPaint(index, color);
    r.setSeriesStroke(index, stroke);
    r.setSeriesShape(index, DOT);
  }

  private static JFreeChart panel(
      String title, String yLabel, XYSeriesCollection data, XYLineAndShapeRenderer renderer,
      RectangleAnchor legendAnchor, double legendX, double legendY) {
    NumberAxis epochs = new NumberAxis("epoch");
    epochs.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    epochs.setAutoRangeIncludesZero(false);
    NumberAxis values = new NumberAxis(yLabel);
    values.setAutoRangeIncludesZero(false);
    for (NumberAxis axis : List.of(epochs, values)) {
      axis.setLabelFont(LABEL);
      axis.setTickLabelFont(TICK);
      axis.setTickLabelPaint(Color.DARK_GRAY);
    }
    XYPlot plot = new XYPlot(data, epochs, values, renderer);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setOutlinePaint(Color.BLACK);
    plot.setOutlineStroke(new BasicStroke(1.2f));
    plot.setDomainGridlinePaint(new Color(0xF0F0F0));
    plot.setRangeGridlinePaint(new Color(0xE6E6E6));
    plot.setDomainGridlineStroke(new BasicStroke(1f));
    plot.setRangeGridlineStroke(new BasicStroke(1f));

    LegendTitle legend = new LegendTitle(plot, new ColumnArrangement(), new ColumnArrangement());
    legend.setItemFont(LABEL);
    legend.setBackgroundPaint(new Color(255, 255, 255, 235));
    legend.setFrame(new BlockBorder(Color.GRAY));
    legend.setPadding(new RectangleInsets(4, 6, 4, 6));
    plot.addAnnotation(new XYTitleAnnotation(legendX, legendY, legend, legendAnchor));

    JFreeChart chart = new JFreeChart(title, LABEL, plot, false);
    chart.setBackgroundPaint(Color.WHITE);
    chart.setPadding(new RectangleInsets(4, 16, 8, 16));
    return chart;
  }
}
