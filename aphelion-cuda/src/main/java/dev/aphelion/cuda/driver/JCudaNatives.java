package dev.aphelion.cuda.driver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Loads JCuda's JNI library from a private directory instead of the shared temporary directory.
 *
 * <p>JCuda extracts {@code libJCudaDriver-<version>-<os>-<arch>.so} to {@code java.io.tmpdir}
 * under a fixed name and loads whatever file already has that name, so any local user who can
 * write there could plant code for us to run. Here the class initialisation that triggers the
 * extraction runs with {@code java.io.tmpdir} pointed at a fresh directory with a random name,
 * created owner-only ({@code rwx------}) and checked to be ours before use; the file JCuda
 * extracts there is the one from its jar. The property is restored at once and the directory
 * deleted after loading (a loaded library stays mapped). The switch lasts only while the one class
 * initialises, under a lock, once per process.
 */
final class JCudaNatives {
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");
  private static final String TMPDIR = "java.io.tmpdir";

  private JCudaNatives() {}

  /** The directory the last load used (deleted by now); for tests. */
  static volatile Path lastDirectory;

  /**
   * Initialises {@code jcuda.driver.JCudaDriver}, which loads its JNI library.
   *
   * @throws LinkageError as JCuda's loading throws it (for example when libcuda.so.1 is missing)
   * @throws IllegalStateException if no private directory can be made
   */
  static synchronized void load() {
    Path dir = privateDirectory();
    lastDirectory = dir;
    String old = System.getProperty(TMPDIR);
    try {
      System.setProperty(TMPDIR, dir.toString());
      Class.forName("jcuda.driver.JCudaDriver", true, JCudaNatives.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new NoClassDefFoundError("jcuda.driver.JCudaDriver: JCuda is not on the class path");
    } finally {
      if (old == null) {
        System.clearProperty(TMPDIR);
      } else {
        System.setProperty(TMPDIR, old);
      }
      deleteQuietly(dir);
    }
  }

  /** A fresh owner-only directory under the system temporary directory, verified. */
  static Path privateDirectory() {
    try {
      boolean posix = Files.getFileStore(Path.of(System.getProperty(TMPDIR))).supportsFileAttributeView(PosixFileAttributeView.class);
      Path dir = posix
          ? Files.createTempDirectory("aphelion-jcuda-", PosixFilePermissions.asFileAttribute(OWNER_ONLY))
          : Files.createTempDirectory("aphelion-jcuda-");
      if (posix) {
        // createTempDirectory fails if the random name exists; check anyway that what we got is a
        // real directory of ours that nobody else can write.
        if (Files.isSymbolicLink(dir) || !Files.isDirectory(dir)
            || !Files.getPosixFilePermissions(dir).equals(OWNER_ONLY)) {
          throw new IllegalStateException("private directory " + dir + " is not an owner-only directory");
        }
      }
      return dir;
    } catch (IOException | UnsupportedOperationException e) {
      throw new IllegalStateException("cannot create a private directory for JCuda's native library: " + e, e);
    }
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.deleteIfExists(f);
      }
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      dir.toFile().deleteOnExit(); // Windows keeps a loaded DLL; nobody else can write the directory
    }
  }
}
