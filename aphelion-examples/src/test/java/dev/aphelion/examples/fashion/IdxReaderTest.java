package dev.aphelion.examples.fashion;

import static dev.aphelion.examples.fashion.IdxTestFiles.gzip;
import static dev.aphelion.examples.fashion.IdxTestFiles.idx;
import static dev.aphelion.examples.fashion.IdxTestFiles.images;
import static dev.aphelion.examples.fashion.IdxTestFiles.labels;
import static dev.aphelion.examples.fashion.IdxTestFiles.ramp;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.error.SerializationException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {
  @TempDir Path dir;

  @Test
  void readsPlainImages() {
    byte[] px = ramp(3 * 2 * 5);
    IdxArray a = IdxReader.read(images(3, 2, 5, px), "x");
    assertArrayEquals(new int[] {3, 2, 5}, a.dims());
    assertArrayEquals(px, a.data());
    assertEquals(30, a.size());
    assertEquals(px[7] & 0xFF, a.unsigned(7));
  }

  @Test
  void readsGzipByMagicNotByName() throws IOException {
    byte[] px = ramp(4 * 3 * 3);
    Path f = dir.resolve("no-suffix");
    Files.write(f, gzip(images(4, 3, 3, px)));
    IdxArray a = IdxReader.readImages(f);
    assertArrayEquals(new int[] {4, 3, 3}, a.dims());
    assertArrayEquals(px, a.data());
  }

  @Test
  void readsLabels() throws IOException {
    Path f = dir.resolve("l.gz");
    Files.write(f, gzip(labels((byte) 9, (byte) 0, (byte) 255)));
    IdxArray a = IdxReader.readLabels(f);
    assertArrayEquals(new int[] {3}, a.dims());
    assertEquals(255, a.unsigned(2));
  }

  @Test
  void unsignedBytesAbove127BecomePixelsUpToOne() {
    IdxArray img = IdxReader.read(images(1, 1, 2, new byte[] {(byte) 255, (byte) 128}), "x");
    IdxArray lab = IdxReader.read(labels((byte) 3), "y");
    LabeledImages li = LabeledImages.fromIdx(img, lab, 10);
    assertEquals(1f, li.pixels()[0]);
    assertEquals(128f / 255f, li.pixels()[1]);
    assertEquals(3, li.labels()[0]);
  }

  @Test
  void badMagicIsNamed() {
    byte[] b = images(1, 1, 1, new byte[] {0});
    b[0] = 0x12;
    var e = assertThrows(SerializationException.class, () -> IdxReader.read(b, "f.idx"));
    assertTrue(e.getMessage().contains("f.idx") && e.getMessage().contains("bad magic number 0x12000803"),
        e.getMessage());
    assertEquals(ErrorCode.SERIALIZATION, e.code());
  }

  @Test
  void unsupportedTypeIsNamed() {
    byte[] b = idx(0x0D, new int[] {1}, new byte[4]);
    var e = assertThrows(SerializationException.class, () -> IdxReader.read(b, "floats"));
    assertTrue(e.getMessage().contains("unsupported IDX data type 0x0D"), e.getMessage());
  }

  @Test
  void zeroDimensionsAndZeroSizesAreRejected() {
    var e1 = assertThrows(SerializationException.class,
        () -> IdxReader.read(new byte[] {0, 0, 8, 0}, "r0"));
    assertTrue(e1.getMessage().contains("0 dimensions"), e1.getMessage());
    var e2 = assertThrows(SerializationException.class,
        () -> IdxReader.read(idx(8, new int[] {2, 0}, new byte[0]), "z"));
    assertTrue(e2.getMessage().contains("dimension 1 has size 0"), e2.getMessage());
  }

  @Test
  void hugeDimensionsAreRejectedBeforeAllocating() {
    byte[] b = idx(8, new int[] {65536, 65536}, new byte[0]);
    var e = assertThrows(SerializationException.class, () -> IdxReader.read(b, "huge"));
    assertTrue(e.getMessage().contains("larger than 2 GiB"), e.getMessage());
    byte[] neg = idx(8, new int[] {-1}, new byte[0]); // 0xFFFFFFFF as unsigned
    assertThrows(SerializationException.class, () -> IdxReader.read(neg, "neg"));
  }

  @Test
  void truncatedHeaderIsNamed() {
    var e1 = assertThrows(SerializationException.class,
        () -> IdxReader.read(new byte[] {0, 0}, "tiny"));
    assertTrue(e1.getMessage().contains("truncated header: 2 of 4"), e1.getMessage());
    byte[] b = Arrays.copyOf(images(2, 2, 2, new byte[8]), 10);
    var e2 = assertThrows(SerializationException.class, () -> IdxReader.read(b, "hdr"));
    assertTrue(e2.getMessage().contains("truncated header: 6 of 12 bytes for 3 dimension sizes"),
        e2.getMessage());
  }

  @Test
  void truncatedDataSaysHowMuchIsMissing() {
    byte[] full = images(3, 2, 2, ramp(12));
    byte[] cut = Arrays.copyOf(full, full.length - 5);
    var e = assertThrows(SerializationException.class, () -> IdxReader.read(cut, "cut"));
    assertTrue(e.getMessage().contains("truncated data: dimensions [3, 2, 2] need 12 bytes, found 7"),
        e.getMessage());
    // the same inside a complete gzip stream
    var g = assertThrows(SerializationException.class, () -> IdxReader.read(gzip(cut), "cut.gz"));
    assertTrue(g.getMessage().contains("truncated data"), g.getMessage());
  }

  @Test
  void truncatedGzipStreamIsNamed() {
    byte[] gz = gzip(images(50, 10, 10, ramp(5000)));
    for (int keep : new int[] {1, 5, 11, gz.length / 2, gz.length - 3}) {
      byte[] cut = Arrays.copyOf(gz, keep);
      var e = assertThrows(SerializationException.class, () -> IdxReader.read(cut, "t.gz"),
          "keep " + keep);
      assertTrue(e.getMessage().startsWith("[APH-SERIALIZATION] t.gz: "), e.getMessage());
    }
  }

  @Test
  void corruptGzipIsNamed() {
    byte[] gz = gzip(images(20, 10, 10, ramp(2000)));
    gz[gz.length / 2] ^= 0x5A;
    gz[gz.length / 2 + 1] ^= 0x33;
    var e = assertThrows(SerializationException.class, () -> IdxReader.read(gz, "bad.gz"));
    assertTrue(e.getMessage().contains("bad.gz"), e.getMessage());
  }

  @Test
  void trailingBytesAreRejected() {
    byte[] b = Arrays.copyOf(labels((byte) 1, (byte) 2), 4 + 4 + 2 + 1);
    var e = assertThrows(SerializationException.class, () -> IdxReader.read(b, "extra"));
    assertTrue(e.getMessage().contains("trailing bytes after the 2 data bytes"), e.getMessage());
  }

  @Test
  void wrongRankForImagesOrLabels() throws IOException {
    Path f = dir.resolve("labels-as-images");
    Files.write(f, labels((byte) 1));
    var e = assertThrows(SerializationException.class, () -> IdxReader.readImages(f));
    assertTrue(e.getMessage().contains("expected 3 dimension(s) for images"), e.getMessage());
    Path g = dir.resolve("images-as-labels");
    Files.write(g, images(1, 1, 1, new byte[1]));
    assertThrows(SerializationException.class, () -> IdxReader.readLabels(g));
  }

  @Test
  void missingFileIsAnIoError() {
    var e = assertThrows(AphelionException.class, () -> IdxReader.read(dir.resolve("nope")));
    assertEquals(ErrorCode.IO, e.code());
    assertTrue(e.getMessage().contains("not found"), e.getMessage());
  }
}
