package dev.aphelion.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {

  static List<Path> listing(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList();
    }
  }

  @Test
  void writesAndReplacesLeavingNoTemporaryFile(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("out.json");
    AtomicFiles.writeString(f, "first");
    AtomicFiles.writeString(f, "second");
    assertEquals("second", Files.readString(f));
    assertEquals(List.of(f), listing(dir));
  }

  /** The target is replaced by a rename, never rewritten in place: a hard link keeps the old bytes. */
  @Test
  void replacesByRenameNotInPlace(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("a.bin");
    Files.writeString(f, "old");
    Path link = dir.resolve("link.bin");
    Files.createLink(link, f);
    AtomicFiles.writeString(f, "new");
    assertEquals("new", Files.readString(f));
    assertEquals("old", Files.readString(link));
  }

  @Test
  void failedContentLeavesTheTargetAndNoTemporaryFile(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("keep.txt");
    Files.writeString(f, "previous");
    AphelionException e = assertThrows(AphelionException.class, () -> AtomicFiles.write(f, out -> {
      out.write(new byte[100_000]);
      throw new IOException("disk full");
    }));
    assertEquals(ErrorCode.IO, e.code());
    assertTrue(e.getMessage().contains("IOException: disk full") && e.getMessage().contains("keep.txt"), e.getMessage());
    assertEquals("previous", Files.readString(f));
    assertEquals(List.of(f), listing(dir));
  }

  @Test
  void missingDirectoryNamesTheProblem(@TempDir Path dir) {
    Path f = dir.resolve("no/such/dir/x.txt");
    AphelionException e = assertThrows(AphelionException.class, () -> AtomicFiles.writeString(f, "x"));
    assertTrue(e.getMessage().contains("NoSuchFileException"), e.getMessage());
  }

  /** Racing writers and a reader: every read sees one writer's complete content. */
  @Test
  void concurrentWritersAndReaderSeeOnlyWholeFiles(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("shared.bin");
    int writers = 4;
    byte[][] contents = new byte[writers][];
    for (int w = 0; w < writers; w++) {
      contents[w] = new byte[64 * 1024 + w];
      Arrays.fill(contents[w], (byte) ('a' + w));
    }
    AtomicFiles.write(f, contents[0]);
    AtomicBoolean done = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(writers + 1);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        byte[] c = contents[w];
        futures.add(pool.submit(() -> {
          for (int i = 0; i < 50; i++) {
            AtomicFiles.write(f, c);
          }
          return null;
        }));
      }
      Future<Integer> reader = pool.submit(() -> {
        int reads = 0;
        while (!done.get()) {
          byte[] got = Files.readAllBytes(f);
          int w = got.length - 64 * 1024;
          assertTrue(w >= 0 && w < writers, "partial file of " + got.length + " bytes");
          assertArrayEquals(contents[w], got);
          reads++;
        }
        return reads;
      });
      for (Future<?> x : futures) {
        x.get();
      }
      done.set(true);
      assertTrue(reader.get() > 0);
    } finally {
      pool.shutdownNow();
    }
    assertEquals(List.of(f), listing(dir));
  }
}
