package dev.aphelion.core.io;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Writes files atomically: readers of the target path see either the previous file or the
 * complete new one, never a partial write, also when the process is killed mid-write or two
 * writers race (the last move wins, each file whole).
 *
 * <p>The content goes to a fresh, uniquely named temporary file in the target's directory
 * ({@code .<name>.<random>.tmp}, created exclusively), is forced to disk, and is then renamed over
 * the target with {@link StandardCopyOption#ATOMIC_MOVE}; the directory is forced too where the
 * platform allows, so the rename survives a power loss. On failure the temporary file is deleted
 * and the target is untouched. A file system without atomic rename is an error, not a silent
 * fallback to a plain copy.
 *
 * <p>Thread-safe: calls share no state.
 */
public final class AtomicFiles {
  private static final SecureRandom RANDOM = new SecureRandom();

  private AtomicFiles() {}

  /** Produces a file's content; the stream is buffered and must not be closed by the body. */
  @FunctionalInterface
  public interface Content {
    /**
     * Writes the content.
     *
     * @param out the stream to the temporary file
     * @throws IOException if writing fails; the target is left untouched
     */
    void writeTo(OutputStream out) throws IOException;
  }

  /**
   * Atomically replaces {@code target} with {@code bytes}.
   *
   * @param target the file to create or replace; its directory must exist
   * @param bytes the complete content
   * @throws AphelionException with {@link ErrorCode#IO} if the file cannot be written or moved
   */
  public static void write(Path target, byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    write(target, out -> out.write(bytes));
  }

  /**
   * Atomically replaces {@code target} with {@code text} encoded as UTF-8.
   *
   * @param target the file to create or replace; its directory must exist
   * @param text the complete content
   * @throws AphelionException with {@link ErrorCode#IO} if the file cannot be written or moved
   */
  public static void writeString(Path target, String text) {
    Objects.requireNonNull(text, "text");
    write(target, text.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Atomically replaces {@code target} with what {@code content} writes.
   *
   * @param target the file to create or replace; its directory must exist
   * @param content writes the complete content
   * @throws AphelionException with {@link ErrorCode#IO} if the file cannot be written or moved
   */
  public static void write(Path target, Content content) {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(content, "content");
    Path abs = target.toAbsolutePath();
    Path dir = abs.getParent();
    if (abs.getFileName() == null || dir == null) {
      throw new AphelionException(ErrorCode.IO, "cannot write " + target + ": not a file path");
    }
    Path tmp = null;
    try {
      tmp = createTemp(dir, abs.getFileName().toString());
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
        content.writeTo(out);
        out.flush();
        ch.force(true);
      }
      Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      tmp = null;
      forceDirectory(dir);
    } catch (IOException | RuntimeException e) {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      if (e instanceof IOException io) {
        throw new AphelionException(ErrorCode.IO, "cannot write " + target + ": " + describe(io), io);
      }
      throw (RuntimeException) e;
    }
  }

  /**
   * Describes an I/O failure with its type: many {@link IOException}s carry only a path as their
   * message, which says nothing about what went wrong.
   *
   * @param e the failure
   * @return for example {@code "NoSuchFileException: /x/y"}
   */
  public static String describe(IOException e) {
    return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
  }

  private static Path createTemp(Path dir, String name) throws IOException {
    // Exclusive creation with a random name: concurrent writers never share a temporary file.
    // Default permissions (the umask), unlike Files.createTempFile's owner-only ones, so the
    // target ends up with the permissions a plain write would give it.
    for (int attempt = 0; ; attempt++) {
      byte[] r = new byte[8];
      RANDOM.nextBytes(r);
      Path tmp = dir.resolve("." + name + "." + HexFormat.of().formatHex(r) + ".tmp");
      try {
        Files.newByteChannel(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        return tmp;
      } catch (FileAlreadyExistsException e) {
        if (attempt == 8) {
          throw e;
        }
      }
    }
  }

  private static void forceDirectory(Path dir) {
    // Makes the rename durable on POSIX; Windows cannot open a directory, and the move is already
    // done, so a failure here is not an error.
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // best effort
    }
  }
}
