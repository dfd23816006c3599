package dev.aphelion.examples.fashion;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.zip.GZIPOutputStream;

/** Builds small IDX files in memory for tests. */
final class IdxTestFiles {
  private IdxTestFiles() {}

  /** An IDX file of unsigned bytes with the given dimensions and data (not checked). */
  static byte[] idx(int type, int[] dims, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
    b.put((byte) 0).put((byte) 0).put((byte) type).put((byte) dims.length);
    for (int d : dims) {
      b.putInt(d);
    }
    b.put(data);
    return b.array();
  }

  static byte[] images(int count, int rows, int cols, byte[] pixels) {
    return idx(0x08, new int[] {count, rows, cols}, pixels);
  }

  static byte[] labels(byte... labels) {
    return idx(0x08, new int[] {labels.length}, labels);
  }

  static byte[] gzip(byte[] plain) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
        gz.write(plain);
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] ramp(int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (i * 37 + 11);
    }
    return b;
  }
}
