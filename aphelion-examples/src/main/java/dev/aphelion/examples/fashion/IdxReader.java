package dev.aphelion.examples.fashion;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.error.SerializationException;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files, the format of MNIST and Fashion-MNIST, plain or gzip-compressed.
 *
 * <p>An IDX file is a 4-byte magic number ({@code 0x00 0x00}, a type code, the number of
 * dimensions), one big-endian 32-bit size per dimension, then the values in row-major order. Only
 * type {@code 0x08} (unsigned byte) is accepted, which is what image and label files use. A gzip
 * stream is recognised by its own magic bytes, not by the file name.
 *
 * <p>Every defect gives a {@link SerializationException} that names the file and the problem: a
 * wrong magic number, an unsupported type, a zero or huge dimension, fewer data bytes than the
 * dimensions promise, or bytes left over after the data.
 */
public final class IdxReader {
  /** The IDX type code of unsigned bytes. */
  public static final int TYPE_UNSIGNED_BYTE = 0x08;

  /** Larger files than this (2 GiB) cannot be held in one Java array. */
  private static final long MAX_VALUES = Integer.MAX_VALUE - 8;

  private IdxReader() {}

  /**
   * Reads an IDX file of unsigned bytes.
   *
   * @param file the file, plain or gzip-compressed
   * @return its dimensions and data
   * @throws SerializationException if the file is not a well-formed IDX file of unsigned bytes
   * @throws AphelionException with {@link ErrorCode#IO} if the file cannot be read
   */
  public static IdxArray read(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return read(in, file.toString());
    } catch (NoSuchFileException e) {
      throw new AphelionException(ErrorCode.IO, "IDX file not found: " + file, e);
    } catch (IOException e) {
      throw new AphelionException(ErrorCode.IO, "cannot read IDX file " + file + ": " + e, e);
    }
  }

  /**
   * Reads IDX bytes held in memory.
   *
   * @param bytes the file's bytes, plain or gzip-compressed
   * @param name a name for error messages
   * @return its dimensions and data
   * @throws SerializationException if the bytes are not a well-formed IDX file of unsigned bytes
   */
  public static IdxArray read(byte[] bytes, String name) {
    try {
      return read(new ByteArrayInputStream(bytes), name);
    } catch (IOException e) {
      throw new SerializationException(name + ": " + e.getMessage(), e);
    }
  }

  /**
   * Reads an IDX file of images: three dimensions (count, rows, columns).
   *
   * @param file the file, plain or gzip-compressed
   * @return the images
   * @throws SerializationException if the file is malformed or does not have three dimensions
   */
  public static IdxArray readImages(Path file) {
    return requireRank(read(file), 3, file, "images (count, rows, columns)");
  }

  /**
   * Reads an IDX file of labels: one dimension (count).
   *
   * @param file the file, plain or gzip-compressed
   * @return the labels
   * @throws SerializationException if the file is malformed or does not have one dimension
   */
  public static IdxArray readLabels(Path file) {
    return requireRank(read(file), 1, file, "labels (count)");
  }

  private static IdxArray requireRank(IdxArray array, int rank, Path file, String what) {
    if (array.rank() != rank) {
      throw new SerializationException(
          file
              + ": expected "
              + rank
              + " dimension(s) for "
              + what
              + ", found "
              + array.rank()
              + " "
              + Arrays.toString(array.dims()));
    }
    return array;
  }

  private static IdxArray read(InputStream raw, String name) throws IOException {
    InputStream in = new BufferedInputStream(raw, 1 << 16);
    in.mark(2);
    int b0 = in.read();
    int b1 = in.read();
    in.reset();
    if (b0 == 0x1f && b1 == 0x8b) {
      try {
        in = new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
      } catch (EOFException | ZipException e) {
        throw new SerializationException(name + ": corrupt or truncated gzip header", e);
      }
    }
    try {
      return parse(in, name);
    } catch (EOFException e) {
      throw new SerializationException(name + ": truncated gzip stream", e);
    } catch (ZipException e) {
      throw new SerializationException(name + ": corrupt gzip stream: " + e.getMessage(), e);
    }
  }

  private static IdxArray parse(InputStream in, String name) throws IOException {
    byte[] magic = in.readNBytes(4);
    if (magic.length < 4) {
      throw new SerializationException(
          name + ": truncated header: " + magic.length + " of 4 magic-number bytes");
    }
    int magicNumber =
        ((magic[0] & 0xFF) << 24) | ((magic[1] & 0xFF) << 16) | ((magic[2] & 0xFF) << 8) | (magic[3] & 0xFF);
    if (magic[0] != 0 || magic[1] != 0) {
      throw new SerializationException(
          String.format(
              "%s: bad magic number 0x%08X: an IDX file starts with two zero bytes, a type code and"
                  + " a dimension count (0x0000080N for unsigned bytes)",
              name, magicNumber));
    }
    int type = magic[2] & 0xFF;
    if (type != TYPE_UNSIGNED_BYTE) {
      throw new SerializationException(
          String.format(
              "%s: unsupported IDX data type 0x%02X (magic 0x%08X): only 0x08, unsigned byte, is"
                  + " supported",
              name, type, magicNumber));
    }
    int rank = magic[3] & 0xFF;
    if (rank == 0) {
      throw new SerializationException(name + ": IDX header declares 0 dimensions");
    }
    byte[] header = in.readNBytes(4 * rank);
    if (header.length < 4 * rank) {
      throw new SerializationException(
          name
              + ": truncated header: "
              + header.length
              + " of "
              + 4 * rank
              + " bytes for "
              + rank
              + " dimension sizes");
    }
    int[] dims = new int[rank];
    long total = 1;
    for (int d = 0; d < rank; d++) {
      long size =
          ((long) (header[4 * d] & 0xFF) << 24)
              | ((header[4 * d + 1] & 0xFF) << 16)
              | ((header[4 * d + 2] & 0xFF) << 8)
              | (header[4 * d + 3] & 0xFF);
      if (size == 0) {
        throw new SerializationException(name + ": dimension " + d + " has size 0");
      }
      total *= size;
      if (size > MAX_VALUES || total > MAX_VALUES) {
        throw new SerializationException(
            name + ": dimension " + d + " of size " + size + " makes the file larger than 2 GiB");
      }
      dims[d] = (int) size;
    }
    byte[] data = in.readNBytes((int) total);
    if (data.length < total) {
      throw new SerializationException(
          name
              + ": truncated data: dimensions "
              + Arrays.toString(dims)
              + " need "
              + total
              + " bytes, found "
              + data.length);
    }
    if (in.read() != -1) {
      throw new SerializationException(
          name
              + ": trailing bytes after the "
              + total
              + " data bytes that dimensions "
              + Arrays.toString(dims)
              + " declare");
    }
    return new IdxArray(dims, data);
  }
}
