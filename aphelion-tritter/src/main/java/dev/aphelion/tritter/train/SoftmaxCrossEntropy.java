package dev.aphelion.tritter.train;

import dev.aphelion.core.error.ShapeException;

/**
 * Softmax cross-entropy over class logits, with its gradient {@code (softmax(z) − onehot(y)) · scale}.
 */
public final class SoftmaxCrossEntropy {
  private SoftmaxCrossEntropy() {}

  /**
   * The loss of a batch.
   *
   * @param lossSum the summed cross-entropy (natural log) over the rows
   * @param correct how many rows the arg-max classified correctly
   * @param rows how many rows
   */
  public record Loss(double lossSum, int correct, int rows) {}

  /**
   * Computes the summed loss and, when {@code dLogits} is not null, writes
   * {@code scale · (softmax(z) − onehot(y))} per row into it.
   *
   * @param logits {@code rows × classes} logits
   * @param rows the number of rows
   * @param classes the number of classes
   * @param labels labels; row {@code r}'s is {@code labels[labelOffset + r]}
   * @param labelOffset index of row 0's label
   * @param dLogits receives the gradient ({@code rows × classes}), or null
   * @param scale the factor on the gradient (for example {@code 1 / rows} for the mean loss)
   * @return the loss
   * @throws ShapeException if a label is outside {@code [0, classes)} or a length is short
   */
  public static Loss compute(float[] logits, int rows, int classes, int[] labels, int labelOffset,
      float[] dLogits, float scale) {
    if (logits.length < (long) rows * classes || labels.length < labelOffset + rows
        || (dLogits != null && dLogits.length < (long) rows * classes)) {
      throw new ShapeException("cross-entropy of " + rows + " rows x " + classes + " classes given " + logits.length
          + " logits and " + (labels.length - labelOffset) + " labels");
    }
    double loss = 0;
    int correct = 0;
    for (int r = 0; r < rows; r++) {
      int y = labels[labelOffset + r];
      if (y < 0 || y >= classes) {
        throw new ShapeException("label " + y + " of row " + r + " is outside [0, " + classes + ")");
      }
      int base = r * classes;
      int best = 0;
      float max = logits[base];
      for (int c = 1; c < classes; c++) {
        if (logits[base + c] > max) {
          max = logits[base + c];
          best = c;
        }
      }
      double sum = 0;
      for (int c = 0; c < classes; c++) {
        sum += Math.exp(logits[base + c] - max);
      }
      loss += Math.log(sum) - (logits[base + y] - max);
      if (best == y) {
        correct++;
      }
      if (dLogits != null) {
        for (int c = 0; c < classes; c++) {
          double p = Math.exp(logits[base + c] - max) / sum;
          dLogits[base + c] = (float) ((p - (c == y ? 1 : 0)) * scale);
        }
      }
    }
    return new Loss(loss, correct, rows);
  }

  /**
   * The arg-max of each row (the first maximum on ties).
   *
   * @param logits {@code rows × classes} values
   * @param rows the number of rows
   * @param classes the number of classes
   * @return one index per row
   */
  public static int[] argmax(float[] logits, int rows, int classes) {
    int[] out = new int[rows];
    for (int r = 0; r < rows; r++) {
      int base = r * classes;
      int best = 0;
      for (int c = 1; c < classes; c++) {
        if (logits[base + c] > logits[base + best]) {
          best = c;
        }
      }
      out[r] = best;
    }
    return out;
  }
}
