package dev.aphelion.cuda.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.aphelion.core.backend.BackendRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression for issue 16 item 1: JCuda's JNI library was loaded from a fixed name in the shared
 * temporary directory (a planted file ran), and merely listing backends triggered that load.
 * Each case runs in a fresh JVM, so that nothing else in the test run has loaded JCuda yet.
 */
class NativeLoadingTest {

  static final String JNI_NAME = "libJCudaDriver-12.6.0-linux-x86_64.so";

  /** Entry point of the child JVM: {@code list} or {@code probe}, then what is mapped. */
  public static void main(String[] args) throws IOException {
    if (args[0].equals("list")) {
      BackendRegistry r = BackendRegistry.load();
      System.out.println("listing: " + r.listing());
      System.out.println("describe: " + r.describe(false).replace('\n', ' '));
    } else {
      System.out.println("reason: " + CudaDriver.probe().reason().replace('\n', ' '));
    }
    String maps = Files.readString(Path.of("/proc/self/maps"));
    System.out.println("mapped-jcuda: " + maps.contains("JCudaDriver"));
    for (String line : maps.split("\n")) {
      if (line.contains("JCudaDriver")) {
        System.out.println("mapped: " + line.substring(line.indexOf('/')));
        break;
      }
    }
  }

  static List<String> child(Path tmpdir, String mode) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED",
        "-Djava.io.tmpdir=" + tmpdir,
        "-cp", System.getProperty("java.class.path"),
        NativeLoadingTest.class.getName(), mode));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
    assertEquals(0, p.exitValue(), out);
    return out.lines().toList();
  }

  static boolean linux() {
    return Files.isReadable(Path.of("/proc/self/maps"));
  }

  @Test
  void aPlantedLibraryInTheSharedTemporaryDirectoryIsNeverLoaded(@TempDir Path shared) throws Exception {
    assumeTrue(linux(), "checks /proc/self/maps");
    Path planted = shared.resolve(JNI_NAME);
    Files.writeString(planted, "not a library: planted by another user\n");
    List<String> out = child(shared, "probe");
    String all = String.join("\n", out);
    System.out.println(all);
    assertFalse(all.contains(planted.toString()), all);
    assertFalse(all.contains("ELF"), "the planted file was handed to the dynamic loader:\n" + all);
    assertEquals("not a library: planted by another user\n", Files.readString(planted), "the planted file was overwritten");
    // JCuda's real library was loaded (from a private directory since deleted) and then failed, if
    // at all, only on the missing driver.
    String mapped = out.stream().filter(l -> l.startsWith("mapped: ")).findFirst().orElse("");
    if (!mapped.isEmpty()) {
      assertTrue(mapped.contains("aphelion-jcuda-") && mapped.contains("(deleted)"), mapped);
    }
    try (Stream<Path> left = Files.list(shared)) {
      assertEquals(List.of(planted), left.toList(), "the private directory is removed after loading");
    }
  }

  @Test
  void listingBackendsLoadsNoNativeCode(@TempDir Path shared) throws Exception {
    assumeTrue(linux(), "checks /proc/self/maps");
    List<String> out = child(shared, "list");
    assertTrue(out.contains("mapped-jcuda: false"), String.join("\n", out));
    assertTrue(String.join("\n", out).contains("cuda"), String.join("\n", out));
  }

  @Test
  void thePrivateDirectoryIsOwnerOnly() throws IOException {
    Path dir = JCudaNatives.privateDirectory();
    try {
      assertTrue(Files.isDirectory(dir) && !Files.isSymbolicLink(dir));
      assertTrue(dir.getFileName().toString().startsWith("aphelion-jcuda-"));
      if (Files.getFileStore(dir).supportsFileAttributeView("posix")) {
        assertEquals(PosixFilePermissions.fromString("rwx------"), Files.getPosixFilePermissions(dir));
      }
      Path second = JCudaNatives.privateDirectory();
      Files.delete(second);
      assertFalse(dir.equals(second), "a fresh name each time");
    } finally {
      Files.deleteIfExists(dir);
    }
  }
}
