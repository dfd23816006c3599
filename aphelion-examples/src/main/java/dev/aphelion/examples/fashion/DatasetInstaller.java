package dev.aphelion.examples.fashion;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Makes the Fashion-MNIST files available for the demo: when they are missing from the default
 * directory it installs the Debian package {@value FashionMnist#DEBIAN_PACKAGE} if this process may
 * (running as root with {@code apt-get} on the path); otherwise it prints the exact command to run.
 */
public final class DatasetInstaller {
  /** The command a user runs to install the data. */
  public static final String INSTALL_COMMAND = "sudo apt-get install -y " + FashionMnist.DEBIAN_PACKAGE;

  private final PrintStream out;

  /**
   * Creates an installer that reports to {@code out}.
   *
   * @param out where to print what it does
   */
  public DatasetInstaller(PrintStream out) {
    this.out = out;
  }

  /**
   * Ensures the four IDX files are in {@code dir}.
   *
   * @param dir the data directory
   * @param mayInstall whether the package may be installed (only for the default directory)
   * @return true when the files are there (now), false when they are not and the user was told
   *     what to do
   */
  public boolean ensure(Path dir, boolean mayInstall) {
    List<String> missing = FashionMnist.missing(dir);
    if (missing.isEmpty()) {
      return true;
    }
    out.println("Fashion-MNIST is not in " + dir + " (missing " + String.join(", ", missing) + ").");
    if (!mayInstall) {
      out.println("Put the four IDX files (optionally .gz) in " + dir
          + ", or leave out --data to use the Debian package; install it with:");
      out.println("  " + INSTALL_COMMAND);
      return false;
    }
    if (!canInstall()) {
      out.println("Install the Debian package that holds it, then run the demo again:");
      out.println("  " + INSTALL_COMMAND);
      out.println("(or pass --data DIR with train-images-idx3-ubyte, train-labels-idx1-ubyte,"
          + " t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each optionally .gz)");
      return false;
    }
    out.println("Installing it: apt-get install -y " + FashionMnist.DEBIAN_PACKAGE);
    int rc = run("apt-get", "install", "-y", "-q", FashionMnist.DEBIAN_PACKAGE);
    if (rc != 0 || !FashionMnist.missing(dir).isEmpty()) {
      // a fresh machine may have no package lists yet
      out.println("Refreshing the package lists: apt-get update");
      run("apt-get", "update", "-q");
      rc = run("apt-get", "install", "-y", "-q", FashionMnist.DEBIAN_PACKAGE);
    }
    if (rc != 0 || !FashionMnist.missing(dir).isEmpty()) {
      out.println("Installing failed (exit code " + rc + "). Install it yourself, then run the demo"
          + " again:");
      out.println("  " + INSTALL_COMMAND);
      return false;
    }
    return true;
  }

  /** Whether this process runs as root and apt-get is on the path. */
  static boolean canInstall() {
    return isRoot() && onPath("apt-get");
  }

  private static boolean isRoot() {
    try {
      Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
      return uid instanceof Integer i && i == 0;
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return false;
    }
  }

  private static boolean onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(java.io.File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
        return true;
      }
    }
    return false;
  }

  private int run(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.INHERIT).start();
      if (!p.waitFor(15, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        return -1;
      }
      return p.exitValue();
    } catch (IOException e) {
      out.println("cannot run " + command[0] + ": " + e.getMessage());
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }
}
