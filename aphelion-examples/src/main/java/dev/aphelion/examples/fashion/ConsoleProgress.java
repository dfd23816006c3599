package dev.aphelion.examples.fashion;

import dev.aphelion.examples.fashion.nn.EpochStats;
import dev.aphelion.examples.fashion.nn.TrainingListener;
import java.io.PrintStream;
import java.util.Locale;

/**
 * A text progress bar for a training run. On a terminal it redraws one line in place (at most ten
 * times a second); elsewhere (a pipe, a CI log) it prints only one line per epoch.
 */
public final class ConsoleProgress implements TrainingListener {
  private static final int WIDTH = 28;

  private final String label;
  private final int epochs;
  private final PrintStream out;
  private final boolean interactive;
  private long lastDraw;
  private long epochStart = System.nanoTime();

  /**
   * Creates a progress bar.
   *
   * @param label the run's name, printed at the start of each line
   * @param epochs the number of epochs of the run
   * @param out where to print
   * @param interactive redraw in place (for a terminal) rather than one line per epoch
   */
  public ConsoleProgress(String label, int epochs, PrintStream out, boolean interactive) {
    this.label = label;
    this.epochs = epochs;
    this.out = out;
    this.interactive = interactive;
  }

  /**
   * Whether standard output is a terminal that can redraw a line.
   *
   * @return true for an interactive console
   */
  public static boolean stdoutIsTerminal() {
    java.io.Console c = System.console();
    return c != null && c.isTerminal();
  }

  @Override
  public void onStep(int epoch, int step, int steps, double loss, double accuracy) {
    if (step == 1) {
      epochStart = System.nanoTime();
    }
    if (!interactive) {
      return;
    }
    long now = System.nanoTime();
    if (step != steps && now - lastDraw < 100_000_000L) {
      return;
    }
    lastDraw = now;
    int filled = (int) ((long) WIDTH * step / steps);
    String bar = "=".repeat(filled) + (filled < WIDTH ? ">" + " ".repeat(WIDTH - filled - 1) : "");
    out.print(String.format(Locale.ROOT,
        "\r  %-22s epoch %2d/%d [%s] %3d%%  loss %.4f  train acc %5.1f%%  %5.1fs ",
        label, epoch, epochs, bar, 100 * step / steps, loss, 100 * accuracy,
        (now - epochStart) / 1e9));
    out.flush();
  }

  @Override
  public void onEpoch(EpochStats s) {
    String line = String.format(Locale.ROOT,
        "  %-22s epoch %2d/%d  loss %.4f  train acc %5.1f%%  test acc %5.2f%%  %5.1fs",
        label, s.epoch(), epochs, s.trainLoss(), 100 * s.trainAccuracy(), 100 * s.testAccuracy(),
        s.seconds());
    if (interactive) {
      // ESC[K clears what is left of the longer progress line
      out.print("\r" + line + "\033[K\n");
    } else {
      out.println(line);
    }
    out.flush();
  }
}
