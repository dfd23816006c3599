package dev.aphelion.examples.fashion;

import static dev.aphelion.examples.fashion.IdxTestFiles.gzip;
import static dev.aphelion.examples.fashion.IdxTestFiles.images;
import static dev.aphelion.examples.fashion.IdxTestFiles.labels;
import static dev.aphelion.examples.fashion.IdxTestFiles.ramp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.error.ShapeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {
  @TempDir Path dir;

  private void writeSet(String prefix, int n, boolean gz) throws IOException {
    byte[] img = images(n, 28, 28, ramp(n * 784));
    byte[] lab = new byte[n];
    for (int i = 0; i < n; i++) {
      lab[i] = (byte) (i % 10);
    }
    byte[] l = labels(lab);
    Files.write(dir.resolve(prefix + "-images-idx3-ubyte" + (gz ? ".gz" : "")), gz ? gzip(img) : img);
    Files.write(dir.resolve(prefix + "-labels-idx1-ubyte" + (gz ? ".gz" : "")), gz ? gzip(l) : l);
  }

  @Test
  void loadsMixedPlainAndGzipFiles() throws IOException {
    writeSet("train", 12, true);
    writeSet("t10k", 5, false);
    FashionMnist.Split s = FashionMnist.load(dir);
    assertEquals(12, s.train().count());
    assertEquals(5, s.test().count());
    assertEquals(784, s.train().features());
    assertEquals(4, s.test().labels()[4]);
  }

  @Test
  void reportsEveryMissingFile() throws IOException {
    writeSet("train", 3, true);
    assertEquals(List.of("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"), FashionMnist.missing(dir));
    var e = assertThrows(AphelionException.class, () -> FashionMnist.load(dir));
    assertEquals(ErrorCode.IO, e.code());
    assertTrue(e.getMessage().contains("t10k-images-idx3-ubyte"), e.getMessage());
    assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("sudo apt-get install dataset-fashion-mnist"), e.getMessage());
  }

  @Test
  void theDefaultDirectorysMessageNamesThePackageAndTheScript() {
    String m = FashionMnist.missingMessage(FashionMnist.DEFAULT_DIR, FashionMnist.FILES);
    assertTrue(m.contains(String.join(", ", FashionMnist.FILES)), m);
    assertTrue(m.contains(FashionMnist.INSTALL_COMMAND), m);
    assertTrue(m.contains("./aphelion demo offers to"), m);
  }

  @Test
  void theDemoReportsMissingDataWithExitCode2AndTheCommand() {
    var out = new java.io.ByteArrayOutputStream();
    var err = new java.io.ByteArrayOutputStream();
    int rc = dev.aphelion.examples.Demo.run(new String[] {"--data", dir.toString()},
        DemoOptionsTest.print(out), DemoOptionsTest.print(err));
    assertEquals(2, rc);
    String text = err.toString(java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(text.contains("sudo apt-get install dataset-fashion-mnist"), text);
    assertTrue(text.contains("train-images-idx3-ubyte"), text);
  }

  /** The ./aphelion script checks for and installs the same files from the same package. */
  @Test
  void theScriptLooksForTheSameFilesInTheSamePackage() throws IOException {
    Path script = Path.of("..", "aphelion");
    assumeTrue(Files.isRegularFile(script), "not run from the aphelion-examples module");
    String text = Files.readString(script);
    assertTrue(text.contains("DATA_PACKAGE=" + FashionMnist.DEBIAN_PACKAGE), "package");
    assertTrue(text.contains("DATA_DIR=" + FashionMnist.DEFAULT_DIR), "directory");
    for (String name : FashionMnist.FILES) {
      assertTrue(text.contains(name), name);
    }
  }

  @Test
  void mismatchedCountsAndBadLabelsAreShapeErrors() throws IOException {
    writeSet("train", 4, false);
    writeSet("t10k", 4, false);
    Files.write(dir.resolve("t10k-labels-idx1-ubyte"), labels((byte) 1, (byte) 2));
    var e = assertThrows(ShapeException.class, () -> FashionMnist.load(dir));
    assertTrue(e.getMessage().contains("4 images, 2 labels"), e.getMessage());
    Files.write(dir.resolve("t10k-labels-idx1-ubyte"), labels((byte) 1, (byte) 2, (byte) 10, (byte) 0));
    var e2 = assertThrows(ShapeException.class, () -> FashionMnist.load(dir));
    assertTrue(e2.getMessage().contains("label 2 is 10"), e2.getMessage());
  }

  @Test
  void realDataWhenInstalled() {
    assumeTrue(FashionMnist.missing(FashionMnist.DEFAULT_DIR).isEmpty(),
        "package " + FashionMnist.DEBIAN_PACKAGE + " not installed");
    FashionMnist.Split s = FashionMnist.load(FashionMnist.DEFAULT_DIR);
    assertEquals(60_000, s.train().count());
    assertEquals(10_000, s.test().count());
    assertEquals(28, s.train().rows());
    int[] perClass = new int[10];
    for (int y : s.test().labels()) {
      perClass[y]++;
    }
    for (int c : perClass) {
      assertEquals(1000, c);
    }
  }
}
