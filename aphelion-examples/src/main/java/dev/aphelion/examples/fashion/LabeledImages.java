package dev.aphelion.examples.fashion;

import dev.aphelion.core.error.ShapeException;

/**
 * Images with class labels, ready for training: pixels scaled to [0, 1], one image per row.
 *
 * <p>The arrays are shared, not copied, so that 60,000 images do not exist twice; treat them as
 * read-only.
 *
 * @param pixels {@code count × rows × cols} values in [0, 1], one image after another
 * @param labels {@code count} class indices in {@code [0, classes)}
 * @param count the number of images
 * @param rows the image height
 * @param cols the image width
 * @param classes the number of classes
 */
public record LabeledImages(
    float[] pixels, int[] labels, int count, int rows, int cols, int classes) {

  /** Checks that the arrays match the shape and that every label is a valid class. */
  public LabeledImages {
    if (count <= 0 || rows <= 0 || cols <= 0 || classes <= 0) {
      throw new ShapeException(
          "count, rows, cols and classes must be positive: "
              + count + ", " + rows + ", " + cols + ", " + classes);
    }
    if (pixels.length != (long) count * rows * cols) {
      throw new ShapeException(
          "pixels has " + pixels.length + " values, expected " + count + "×" + rows + "×" + cols);
    }
    if (labels.length != count) {
      throw new ShapeException("labels has " + labels.length + " values, expected " + count);
    }
    for (int i = 0; i < count; i++) {
      if (labels[i] < 0 || labels[i] >= classes) {
        throw new ShapeException(
            "label " + i + " is " + labels[i] + ", outside [0, " + classes + ")");
      }
    }
  }

  /**
   * Builds images from IDX image and label files.
   *
   * @param images an IDX array of shape (count, rows, cols)
   * @param labels an IDX array of shape (count)
   * @param classes the number of classes
   * @return the images, pixels divided by 255
   * @throws ShapeException if the counts differ or a label is out of range
   */
  public static LabeledImages fromIdx(IdxArray images, IdxArray labels, int classes) {
    if (images.rank() != 3 || labels.rank() != 1) {
      throw new ShapeException(
          "expected images of rank 3 and labels of rank 1, found " + images + " and " + labels);
    }
    if (images.dim(0) != labels.dim(0)) {
      throw new ShapeException(
          "image and label files disagree: " + images.dim(0) + " images, " + labels.dim(0)
              + " labels");
    }
    float[] pixels = new float[images.size()];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = images.unsigned(i) / 255f;
    }
    int[] y = new int[labels.size()];
    for (int i = 0; i < y.length; i++) {
      y[i] = labels.unsigned(i);
    }
    return new LabeledImages(pixels, y, images.dim(0), images.dim(1), images.dim(2), classes);
  }

  /** The number of values per image ({@code rows × cols}). */
  public int features() {
    return rows * cols;
  }

  /**
   * The first {@code n} images (a copy).
   *
   * @param n how many, 1..count
   * @return the subset
   */
  public LabeledImages head(int n) {
    if (n <= 0 || n > count) {
      throw new ShapeException("head(" + n + ") of " + count + " images");
    }
    float[] p = java.util.Arrays.copyOf(pixels, n * features());
    int[] l = java.util.Arrays.copyOf(labels, n);
    return new LabeledImages(p, l, n, rows, cols, classes);
  }
}
