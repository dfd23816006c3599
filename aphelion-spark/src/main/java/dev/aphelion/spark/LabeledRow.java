package dev.aphelion.spark;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.train.Examples;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One training example as an element of a Spark RDD: its features and class label.
 *
 * @param features the feature values (not copied)
 * @param label the class, at least 0
 */
public record LabeledRow(float[] features, int label) implements Serializable {

  /**
   * Checks the row.
   *
   * @throws ShapeException if there are no features or the label is negative
   */
  public LabeledRow {
    Objects.requireNonNull(features, "features");
    if (features.length == 0 || label < 0) {
      throw new ShapeException("a row needs features and a label >= 0, got " + features.length + " features, label " + label);
    }
  }

  /**
   * The rows of a data set, in order.
   *
   * @param data the examples
   * @return one row per example
   */
  public static List<LabeledRow> of(Examples data) {
    List<LabeledRow> rows = new ArrayList<>(data.count());
    int w = data.width();
    for (int i = 0; i < data.count(); i++) {
      rows.add(new LabeledRow(Arrays.copyOfRange(data.features(), i * w, (i + 1) * w), data.labels()[i]));
    }
    return rows;
  }

  /**
   * Gathers rows into a data set.
   *
   * @param rows the rows, all of {@code width} features
   * @param width the number of features
   * @param classes the number of classes
   * @return the examples
   * @throws ShapeException if a row has another width or a label {@code >= classes}
   */
  public static Examples toExamples(List<LabeledRow> rows, int width, int classes) {
    float[] f = new float[rows.size() * width];
    int[] l = new int[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      LabeledRow r = rows.get(i);
      if (r.features.length != width) {
        throw new ShapeException("row " + i + " has " + r.features.length + " features, the model takes " + width);
      }
      System.arraycopy(r.features, 0, f, i * width, width);
      l[i] = r.label;
    }
    return new Examples(f, l, width, classes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LabeledRow r && label == r.label && Arrays.equals(features, r.features);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(features) + label;
  }

  @Override
  public String toString() {
    return "LabeledRow[" + features.length + " features, label " + label + "]";
  }
}
