package dev.aphelion.examples;

/**
 * The program behind {@code ./aphelion demo}. For now it runs the {@link CoreTour} of
 * aphelion-core's API.
 */
public final class Demo {
  private Demo() {}

  /**
   * Runs the demo.
   *
   * @param args passed on to the tour
   */
  public static void main(String[] args) {
    CoreTour.main(args);
  }
}
