package dev.aphelion.tritter.train;

import dev.aphelion.core.error.ShapeException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A labelled data set in memory: {@code count} rows of {@code features} float32 values
 * (row-major) and one class label per row.
 *
 * @param features row-major {@code count × width} values
 * @param labels {@code count} labels in {@code [0, classes)}
 * @param width the number of features per row
 * @param classes the number of classes
 */
public record Examples(float[] features, int[] labels, int width, int classes) implements java.io.Serializable {

  /**
   * Validates the shape and the labels.
   *
   * @throws ShapeException if the lengths disagree, a value is not finite or a label is out of range
   */
  public Examples {
    Objects.requireNonNull(features, "features");
    Objects.requireNonNull(labels, "labels");
    if (width < 1 || classes < 2) {
      throw new ShapeException("examples need at least 1 feature and 2 classes, got " + width + " and " + classes);
    }
    if (features.length != (long) labels.length * width) {
      throw new ShapeException(labels.length + " labels need " + (long) labels.length * width + " feature values of width "
          + width + ", got " + features.length);
    }
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] >= classes) {
        throw new ShapeException("label " + labels[i] + " of row " + i + " is outside [0, " + classes + ")");
      }
    }
    for (int i = 0; i < features.length; i++) {
      if (!Float.isFinite(features[i])) {
        throw new ShapeException("feature " + (i % width) + " of row " + (i / width) + " is " + features[i]);
      }
    }
  }

  /** The number of rows. */
  public int count() {
    return labels.length;
  }

  /**
   * Rows {@code [from, to)} as a new data set.
   *
   * @param from first row
   * @param to one past the last row
   * @return the copy
   */
  public Examples slice(int from, int to) {
    if (from < 0 || to > count() || from > to) {
      throw new ShapeException("slice [" + from + ", " + to + ") of " + count() + " rows");
    }
    return new Examples(Arrays.copyOfRange(features, from * width, to * width), Arrays.copyOfRange(labels, from, to),
        width, classes);
  }

  /**
   * Cuts the rows into {@code parts} contiguous partitions, partition {@code i} holding rows
   * {@code [i·n/parts, (i+1)·n/parts)} (the slicing of Spark's {@code parallelize}).
   *
   * @param parts the number of partitions, at least 1
   * @return the partitions
   */
  public List<Examples> partition(int parts) {
    if (parts < 1) {
      throw new ShapeException("need at least 1 partition, got " + parts);
    }
    List<Examples> out = new ArrayList<>(parts);
    int n = count();
    for (int i = 0; i < parts; i++) {
      out.add(slice((int) ((long) i * n / parts), (int) ((long) (i + 1) * n / parts)));
    }
    return out;
  }

  /**
   * Concatenates data sets of the same shape.
   *
   * @param parts the parts, at least one
   * @return the rows of all parts, in order
   */
  public static Examples concat(List<Examples> parts) {
    if (parts.isEmpty()) {
      throw new ShapeException("concat needs at least one part");
    }
    Examples first = parts.getFirst();
    int n = 0;
    for (Examples e : parts) {
      if (e.width != first.width || e.classes != first.classes) {
        throw new ShapeException("cannot concatenate " + e.width + "x" + e.classes + " with " + first.width + "x" + first.classes);
      }
      n += e.count();
    }
    float[] f = new float[n * first.width];
    int[] l = new int[n];
    int at = 0;
    for (Examples e : parts) {
      System.arraycopy(e.features, 0, f, at * first.width, e.features.length);
      System.arraycopy(e.labels, 0, l, at, e.count());
      at += e.count();
    }
    return new Examples(f, l, first.width, first.classes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Examples e && width == e.width && classes == e.classes && Arrays.equals(features, e.features)
        && Arrays.equals(labels, e.labels);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(labels) + Arrays.hashCode(features);
  }

  @Override
  public String toString() {
    return "Examples[" + count() + " x " + width + ", " + classes + " classes]";
  }
}
