package dev.aphelion.cuda.ternary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The committed fatbin must have been built from the committed CUDA sources and build script. */
class KernelSourceHashTest {

  static Path moduleDir() {
    for (Path p : new Path[] {Path.of(""), Path.of("aphelion-cuda")}) {
      if (Files.isDirectory(p.resolve("src/main/cuda"))) {
        return p;
      }
    }
    return null;
  }

  @Test
  void committedHashMatchesTheSources() {
    Path dir = moduleDir();
    // Maven runs tests in the module directory, where the sources always exist; a packed test
    // run elsewhere (the GPU machine) may not carry them.
    Assumptions.assumeTrue(dir != null, "CUDA sources not found from " + Path.of("").toAbsolutePath());
    assertEquals(
        KernelImage.recordedSourceHash(),
        KernelImage.computeSourceHash(dir),
        "aphelion-cuda/src/main/cuda or build-kernels.sh changed: run aphelion-cuda/build-kernels.sh and commit the new fatbin");
  }

  @Test
  void fatbinIsPresent() {
    byte[] image = KernelImage.fatbin();
    assertTrue(image.length > 1024, "fatbin too small: " + image.length);
    // fatbin magic 0xBA55ED50, little-endian
    assertEquals(0x50, image[0] & 0xff);
    assertEquals(0xED, image[1] & 0xff);
    assertEquals(0x55, image[2] & 0xff);
    assertEquals(0xBA, image[3] & 0xff);
  }
}
