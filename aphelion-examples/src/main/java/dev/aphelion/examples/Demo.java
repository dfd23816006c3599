package dev.aphelion.examples;

import dev.aphelion.examples.fashion.FashionDemo;
import java.util.Arrays;

/**
 * The program behind {@code ./aphelion demo}: the Fashion-MNIST demo ({@link FashionDemo}), or,
 * with {@code --tour}, the {@link CoreTour} of aphelion-core's API.
 */
public final class Demo {
  private Demo() {}

  /**
   * Runs the demo.
   *
   * @param args {@code --tour} for the core tour, otherwise the options of {@link FashionDemo}
   *     ({@code --help} lists them)
   */
  public static void main(String[] args) {
    if (Arrays.asList(args).contains("--tour")) {
      CoreTour.main(Arrays.stream(args).filter(a -> !a.equals("--tour")).toArray(String[]::new));
      return;
    }
    FashionDemo.main(args);
  }
}
