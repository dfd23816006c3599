package dev.aphelion.examples.fashion;

import dev.aphelion.examples.fashion.nn.EpochStats;
import dev.aphelion.examples.fashion.nn.Mlp;
import java.util.List;

/**
 * One finished training run of the demo.
 *
 * @param key the run's key in {@code summary.json} ({@code float32}, {@code ternary},
 *     {@code ternaryCompressed})
 * @param label the run's name in the console and the chart
 * @param model the trained model
 * @param epochs per-epoch numbers
 * @param exchange the gradient exchange's name
 * @param wireBytes bytes the workers' gradient messages took
 * @param float32Bytes bytes the same messages would take as float32
 * @param seconds wall-clock time of the run's training steps
 */
public record RunResult(
    String key, String label, Mlp model, List<EpochStats> epochs, String exchange, long wireBytes,
    long float32Bytes, double seconds) {

  /** Test accuracy after the last epoch. */
  public double testAccuracy() {
    return epochs.getLast().testAccuracy();
  }

  /** {@code float32Bytes / wireBytes}. */
  public double wireRatio() {
    return wireBytes == 0 ? 1.0 : (double) float32Bytes / wireBytes;
  }
}
