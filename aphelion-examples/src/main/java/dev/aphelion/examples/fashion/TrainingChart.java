package dev.aphelion.examples.fashion;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.examples.fashion.nn.EpochStats;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import javax.imageio.ImageIO;

/**
 * Draws the training curves of several runs as a PNG with Java2D (headless): loss per epoch on
 * the left (training loss solid, test loss dashed) and test accuracy per epoch on the right, one
 * colour per run, with axes, labels and legends.
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

  private static final int W = 1400;
  private static final int H = 560;
  private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 20);
  private static final Font LABEL = new Font(Font.SANS_SERIF, Font.PLAIN, 15);
  private static final Font TICK = new Font(Font.SANS_SERIF, Font.PLAIN, 13);

  private TrainingChart() {}

  /**
   * Renders the chart.
   *
   * @param title the title above both panels
   * @param series the runs, each with at least one epoch
   * @return the image
   */
  public static BufferedImage render(String title, List<Series> series) {
    System.setProperty("java.awt.headless", "true");
    BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, W, H);
      g.setColor(Color.BLACK);
      g.setFont(TITLE);
      FontMetrics fm = g.getFontMetrics();
      g.drawString(title, (W - fm.stringWidth(title)) / 2, 34);

      double maxLoss = 0;
      double minLoss = Double.MAX_VALUE;
      double minAcc = 1;
      double maxAcc = 0;
      int maxEpoch = 1;
      for (Series s : series) {
        for (EpochStats e : s.epochs()) {
          maxLoss = Math.max(maxLoss, Math.max(e.trainLoss(), e.testLoss()));
          minLoss = Math.min(minLoss, Math.min(e.trainLoss(), e.testLoss()));
          minAcc = Math.min(minAcc, e.testAccuracy());
          maxAcc = Math.max(maxAcc, e.testAccuracy());
          maxEpoch = Math.max(maxEpoch, e.epoch());
        }
      }
      double[] lossRange = niceRange(Math.max(0, minLoss), maxLoss);
      double[] accRange = niceRange(minAcc * 100, Math.min(100, maxAcc * 100));

      int top = 70;
      int panelH = H - top - 80;
      int leftX = 90;
      int panelW = (W - 2 * 90 - 110) / 2;
      panel(g, leftX, top, panelW, panelH, "Loss (solid: training, dashed: test)", "cross-entropy",
          maxEpoch, lossRange, series, true);
      panel(g, leftX + panelW + 110, top, panelW, panelH, "Test accuracy", "accuracy (%)",
          maxEpoch, accRange, series, false);
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
    BufferedImage img = render(title, series);
    try {
      if (file.getParent() != null) {
        Files.createDirectories(file.getParent());
      }
      if (!ImageIO.write(img, "png", file.toFile())) {
        throw new AphelionException(ErrorCode.IO, "no PNG writer available for " + file);
      }
    } catch (IOException e) {
      throw new AphelionException(ErrorCode.IO, "cannot write chart " + file + ": " + e, e);
    }
  }

  private static void panel(
      Graphics2D g, int x, int y, int w, int h, String title, String yLabel, int maxEpoch,
      double[] range, List<Series> series, boolean loss) {
    double lo = range[0];
    double hi = range[1];
    double step = range[2];
    // frame and grid
    g.setFont(TICK);
    FontMetrics fm = g.getFontMetrics();
    for (double v = lo; v <= hi + step / 2; v += step) {
      int py = y + h - (int) Math.round((v - lo) / (hi - lo) * h);
      g.setColor(new Color(0xE6E6E6));
      g.drawLine(x, py, x + w, py);
      g.setColor(Color.DARK_GRAY);
      String t = format(v, step);
      g.drawString(t, x - 8 - fm.stringWidth(t), py + fm.getAscent() / 2 - 1);
    }
    int xStep = Math.max(1, (int) Math.ceil(maxEpoch / 12.0));
    for (int e = 1; e <= maxEpoch; e += xStep) {
      int px = xPos(e, maxEpoch, x, w);
      g.setColor(new Color(0xF0F0F0));
      g.drawLine(px, y, px, y + h);
      g.setColor(Color.DARK_GRAY);
      String t = Integer.toString(e);
      g.drawString(t, px - fm.stringWidth(t) / 2, y + h + fm.getAscent() + 6);
    }
    g.setColor(Color.BLACK);
    g.setStroke(new BasicStroke(1.2f));
    g.drawRect(x, y, w, h);
    // labels
    g.setFont(LABEL);
    fm = g.getFontMetrics();
    g.drawString(title, x + (w - fm.stringWidth(title)) / 2, y - 10);
    g.drawString("epoch", x + (w - fm.stringWidth("epoch")) / 2, y + h + 48);
    AffineTransform saved = g.getTransform();
    g.rotate(-Math.PI / 2);
    g.drawString(yLabel, -(y + (h + fm.stringWidth(yLabel)) / 2), x - 58);
    g.setTransform(saved);
    // curves
    Stroke solid = new BasicStroke(2.6f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
    Stroke dashed = new BasicStroke(2.0f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f,
        new float[] {8f, 6f}, 0f);
    for (Series s : series) {
      g.setColor(s.color());
      if (loss) {
        curve(g, s.epochs(), EpochStats::trainLoss, 1, lo, hi, x, y, w, h, maxEpoch, solid);
        curve(g, s.epochs(), EpochStats::testLoss, 1, lo, hi, x, y, w, h, maxEpoch, dashed);
      } else {
        curve(g, s.epochs(), EpochStats::testAccuracy, 100, lo, hi, x, y, w, h, maxEpoch, solid);
      }
    }
    // legend: upper right for loss (curves fall), lower right for accuracy (curves rise)
    g.setFont(LABEL);
    fm = g.getFontMetrics();
    int lw = 0;
    for (Series s : series) {
      lw = Math.max(lw, fm.stringWidth(legendText(s, loss)));
    }
    int boxW = lw + 58;
    int boxH = series.size() * 24 + 12;
    int bx = x + w - boxW - 12;
    int by = loss ? y + 12 : y + h - boxH - 12;
    g.setColor(new Color(255, 255, 255, 235));
    g.fillRect(bx, by, boxW, boxH);
    g.setColor(Color.GRAY);
    g.setStroke(new BasicStroke(1f));
    g.drawRect(bx, by, boxW, boxH);
    for (int i = 0; i < series.size(); i++) {
      Series s = series.get(i);
      int ly = by + 20 + i * 24;
      g.setColor(s.color());
      g.setStroke(solid);
      g.drawLine(bx + 10, ly - 5, bx + 40, ly - 5);
      g.setColor(Color.BLACK);
      g.drawString(legendText(s, loss), bx + 48, ly);
    }
  }

  private static String legendText(Series s, boolean loss) {
    if (loss || s.epochs().isEmpty()) {
      return s.name();
    }
    return String.format(Locale.ROOT, "%s  (%.2f%%)", s.name(), 100 * s.epochs().getLast().testAccuracy());
  }

  private static void curve(
      Graphics2D g, List<EpochStats> epochs, ToDoubleFunction<EpochStats> f, double mul,
      double lo, double hi, int x, int y, int w, int h, int maxEpoch, Stroke stroke) {
    Path2D.Double path = new Path2D.Double();
    for (int i = 0; i < epochs.size(); i++) {
      EpochStats e = epochs.get(i);
      double px = xPos(e.epoch(), maxEpoch, x, w);
      double py = y + h - (f.applyAsDouble(e) * mul - lo) / (hi - lo) * h;
      if (i == 0) {
        path.moveTo(px, py);
      } else {
        path.lineTo(px, py);
      }
      g.setStroke(new BasicStroke(1f));
      g.fillOval((int) px - 4, (int) py - 4, 8, 8);
    }
    g.setStroke(stroke);
    g.draw(path);
  }

  private static int xPos(int epoch, int maxEpoch, int x, int w) {
    int pad = 16;
    if (maxEpoch == 1) {
      return x + w / 2;
    }
    return x + pad + (int) Math.round((epoch - 1) / (double) (maxEpoch - 1) * (w - 2 * pad));
  }

  /** A range [lo, hi] widened to round tick steps; returns {lo, hi, step}. */
  static double[] niceRange(double min, double max) {
    if (!(max > min)) {
      max = min + 1e-3;
    }
    double span = max - min;
    double raw = span / 6;
    double mag = Math.pow(10, Math.floor(Math.log10(raw)));
    double step = mag;
    for (double m : new double[] {1, 2, 2.5, 5, 10}) {
      if (m * mag >= raw) {
        step = m * mag;
        break;
      }
    }
    double lo = Math.floor(min / step) * step;
    double hi = Math.ceil(max / step) * step;
    if (hi - lo < step) {
      hi = lo + step;
    }
    return new double[] {lo, hi, step};
  }

  private static String format(double v, double step) {
    int decimals = Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9));
    if (step * Math.pow(10, decimals) % 1 != 0) {
      decimals++;
    }
    return String.format(Locale.ROOT, "%." + decimals + "f", v);
  }
}
