package dev.aphelion.examples.fashion;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Fashion-MNIST (Zalando Research): 60,000 training and 10,000 test images of 28×28 grey pixels
 * in 10 classes, read from the four IDX files of the Debian package {@value #DEBIAN_PACKAGE}.
 */
public final class FashionMnist {
  /** Where the Debian package puts the files. */
  public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");

  /** The Debian package that holds the files. */
  public static final String DEBIAN_PACKAGE = "dataset-fashion-mnist";

  /** The command that installs {@link #DEBIAN_PACKAGE}. */
  public static final String INSTALL_COMMAND = "sudo apt-get install " + DEBIAN_PACKAGE;

  /** The number of classes. */
  public static final int CLASSES = 10;

  /** The class names, by label. */
  public static final List<String> CLASS_NAMES =
      List.of(
          "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

  /** The four files, without the optional {@code .gz} suffix. */
  public static final List<String> FILES =
      List.of(
          "train-images-idx3-ubyte",
          "train-labels-idx1-ubyte",
          "t10k-images-idx3-ubyte",
          "t10k-labels-idx1-ubyte");

  /**
   * The training and test splits.
   *
   * @param train the 60,000 training images
   * @param test the 10,000 test images
   */
  public record Split(LabeledImages train, LabeledImages test) {}

  private FashionMnist() {}

  /**
   * Finds one of the files in a directory, compressed ({@code name.gz}) or plain.
   *
   * @param dir the directory
   * @param name one of {@link #FILES}
   * @return the path, if present
   */
  public static Optional<Path> find(Path dir, String name) {
    for (String candidate : List.of(name + ".gz", name)) {
      Path p = dir.resolve(candidate);
      if (Files.isRegularFile(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /**
   * Lists the files of {@link #FILES} that a directory lacks.
   *
   * @param dir the directory
   * @return the missing names, empty when all four are there
   */
  public static List<String> missing(Path dir) {
    List<String> missing = new ArrayList<>();
    for (String name : FILES) {
      if (find(dir, name).isEmpty()) {
        missing.add(name);
      }
    }
    return missing;
  }

  /**
   * Loads both splits.
   *
   * @param dir a directory holding the four IDX files
   * @return the training and test images
   * @throws AphelionException with {@link ErrorCode#IO} naming the missing files and the command
   *     that installs them, or a serialization or shape error from a malformed file
   */
  public static Split load(Path dir) {
    List<String> missing = missing(dir);
    if (!missing.isEmpty()) {
      throw new AphelionException(ErrorCode.IO, missingMessage(dir, missing));
    }
    return new Split(load(dir, "train"), load(dir, "t10k"));
  }

  /** What is missing where, and how to get it. */
  static String missingMessage(Path dir, List<String> missing) {
    String what = "Fashion-MNIST is not in " + dir + " (missing " + String.join(", ", missing)
        + ", each optionally .gz). ";
    if (dir.equals(DEFAULT_DIR)) {
      return what + "Install the Debian package that holds it (./aphelion demo offers to):\n  "
          + INSTALL_COMMAND + "\nor pass --data DIR with the four files.";
    }
    return what + "Put the four files there, or leave out --data to read them from the Debian"
        + " package " + DEBIAN_PACKAGE + ":\n  " + INSTALL_COMMAND;
  }

  private static LabeledImages load(Path dir, String prefix) {
    IdxArray images = IdxReader.readImages(find(dir, prefix + "-images-idx3-ubyte").orElseThrow());
    IdxArray labels = IdxReader.readLabels(find(dir, prefix + "-labels-idx1-ubyte").orElseThrow());
    return LabeledImages.fromIdx(images, labels, CLASSES);
  }
}
