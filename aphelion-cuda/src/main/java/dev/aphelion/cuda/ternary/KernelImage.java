package dev.aphelion.cuda.ternary;

import dev.aphelion.core.error.BackendException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * The committed kernel image: one fatbin ({@value #FATBIN}) with SASS for sm_80 and sm_90a (Hopper, with the wgmma kernels) and PTX
 * for compute_80, built from {@code aphelion-cuda/src/main/cuda} by {@code build-kernels.sh},
 * and the SHA-256 of those sources ({@value #HASH}) recorded when it was built.
 */
public final class KernelImage {

  /** Classpath resource of the fatbin. */
  public static final String FATBIN = "/dev/aphelion/cuda/aphelion_kernels.fatbin";

  /** Classpath resource of the source hash. */
  public static final String HASH = "/dev/aphelion/cuda/aphelion_kernels.sha256";

  /** The build script, hashed together with the sources (its flags shape the image too). */
  public static final String BUILD_SCRIPT = "build-kernels.sh";

  private KernelImage() {}

  private static final class Holder {
    static final byte[] IMAGE = readResource(FATBIN);
  }

  /**
   * The fatbin bytes (read once).
   *
   * @return the image; callers must not modify it
   * @throws BackendException if the resource is missing
   */
  public static byte[] fatbin() {
    return Holder.IMAGE;
  }

  /**
   * The source hash recorded when the fatbin was built.
   *
   * @return 64 lowercase hex digits
   */
  public static String recordedSourceHash() {
    return new String(readResource(HASH), StandardCharsets.US_ASCII).trim();
  }

  /**
   * Computes the source hash the way {@code build-kernels.sh} does: SHA-256 over, for each file of
   * {@code src/main/cuda} sorted by name and then the build script, the file name, a NUL byte, the
   * file's bytes and a NUL byte.
   *
   * @param moduleDir the aphelion-cuda module directory
   * @return 64 lowercase hex digits
   * @throws UncheckedIOException if a file cannot be read
   */
  public static String computeSourceHash(Path moduleDir) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      List<Path> files;
      try (Stream<Path> s = Files.list(moduleDir.resolve("src/main/cuda"))) {
        files = s.filter(Files::isRegularFile).sorted((a, b) -> compareBytes(name(a), name(b))).toList();
      }
      for (Path f : files) {
        update(md, name(f), Files.readAllBytes(f));
      }
      update(md, BUILD_SCRIPT.getBytes(StandardCharsets.UTF_8), Files.readAllBytes(moduleDir.resolve(BUILD_SCRIPT)));
      return HexFormat.of().formatHex(md.digest());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }

  private static byte[] name(Path p) {
    return p.getFileName().toString().getBytes(StandardCharsets.UTF_8);
  }

  private static int compareBytes(byte[] a, byte[] b) {
    return java.util.Arrays.compareUnsigned(a, b);
  }

  private static void update(MessageDigest md, byte[] name, byte[] content) {
    md.update(name);
    md.update((byte) 0);
    md.update(content);
    md.update((byte) 0);
  }

  private static byte[] readResource(String path) {
    try (InputStream in = KernelImage.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new BackendException("kernel resource " + path + " is missing from the classpath");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new BackendException("reading kernel resource " + path + " failed", e);
    }
  }
}
