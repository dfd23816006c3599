package dev.aphelion.examples;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.examples.fashion.DemoOptions;
import dev.aphelion.examples.fashion.FashionDemo;
import java.io.PrintStream;

/**
 * The program behind {@code ./aphelion demo}: the Fashion-MNIST demo ({@link FashionDemo}), or,
 * with {@code --tour}, the {@link CoreTour} of aphelion-core's API.
 */
public final class Demo {
  private Demo() {}

  /**
   * Runs the demo and exits with {@link #run}'s status when it is not 0.
   *
   * @param args the options of {@link DemoOptions} ({@code --help} lists them)
   */
  public static void main(String[] args) {
    // the chart is drawn into an image: no display is needed
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
    int rc = run(args, System.out, System.err);
    if (rc != 0) {
      System.exit(rc);
    }
  }

  /**
   * Parses the options and runs the demo or the tour.
   *
   * @param args the options of {@link DemoOptions}
   * @param out where the demo prints
   * @param err where bad options and a missing data set are reported
   * @return 0 on success, 2 for bad options, a missing data set or an unwritable output
   */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    DemoOptions options;
    try {
      options = DemoOptions.parse(args);
    } catch (AphelionException e) {
      err.println("aphelion demo: " + e.getMessage());
      return 2;
    }
    if (options.help()) {
      out.print(DemoOptions.usage());
      return 0;
    }
    try {
      if (options.tour()) {
        new CoreTour(out, options.out()).run();
      } else {
        new FashionDemo(options, out).run();
      }
      return 0;
    } catch (AphelionException e) {
      if (e.code() != ErrorCode.IO) {
        throw e;
      }
      err.println("aphelion demo: " + e.getMessage());
      return 2;
    }
  }
}
