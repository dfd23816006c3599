package dev.aphelion.tritter.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.ternary.PackedTernary;
import java.io.IOException;
import java.util.Arrays;

/**
 * Aphelion's convention for packed ternary matrices in safetensors (docs/formats.md, "Safetensors
 * conventions"). A matrix stored under a prefix {@code p} (for example {@code
 * model.layers.0.mlp.up_proj}) is:
 *
 * <ul>
 *   <li>{@code p.weight_packed}: {@code U8} of shape {@code [rows, ceil(cols/4)]} in tritter-accel's
 *       byte format (trit {@code c} at bits {@code 2·(c%4)} of byte {@code c/4}, codes 00=0, 01=+1,
 *       10=-1, padding bits zero);
 *   <li>{@code p.weight_scale}: {@code F32} of shape {@code [rows]} (one scale per row) or {@code
 *       [rows, ceil(cols/groupSize)]} (per group);
 *   <li>metadata entry {@code p.weight_packed} = {@code {"format":"tritter-2bit","cols":C,
 *       "group_size":G}} (JSON in a string), because the packed shape alone loses {@code cols}.
 * </ul>
 *
 * <p>The value of element {@code (r, c)} is {@code trit · scale[r][c / G]}.
 */
public final class TernaryTensors {

  /** Suffix of the packed trits tensor. */
  public static final String PACKED_SUFFIX = ".weight_packed";
  /** Suffix of the scales tensor. */
  public static final String SCALE_SUFFIX = ".weight_scale";
  /** Value of the {@code format} field in the metadata entry. */
  public static final String FORMAT = "tritter-2bit";

  private static final ObjectMapper JSON = new ObjectMapper();

  private TernaryTensors() {}

  /**
   * Adds a packed matrix under a prefix.
   *
   * @param writer the writer
   * @param prefix the name prefix
   * @param p the matrix
   */
  public static void add(SafeTensorsWriter writer, String prefix, PackedTernary p) {
    int bpr = (p.cols() + 3) / 4;
    writer.add(prefix + PACKED_SUFFIX, DType.U8, new long[] {p.rows(), bpr}, p.toTritterBytes());
    long[] scaleShape = p.groupsPerRow() == 1 ? new long[] {p.rows()} : new long[] {p.rows(), p.groupsPerRow()};
    writer.addF32(prefix + SCALE_SUFFIX, scaleShape, p.scales());
    writer.metadata(prefix + PACKED_SUFFIX,
        "{\"format\":\"" + FORMAT + "\",\"cols\":" + p.cols() + ",\"group_size\":" + p.groupSize() + "}");
  }

  /** Whether the file holds a packed matrix under this prefix. */
  public static boolean contains(SafeTensorsFile file, String prefix) {
    return file.contains(prefix + PACKED_SUFFIX);
  }

  /**
   * Reads a packed matrix.
   *
   * @param file the file
   * @param prefix the name prefix
   * @return the matrix
   * @throws SerializationException if a tensor or the metadata entry is missing or malformed
   * @throws ShapeException if the shapes disagree
   */
  public static PackedTernary read(SafeTensorsFile file, String prefix) {
    String packedName = prefix + PACKED_SUFFIX;
    TensorInfo packed = file.info(packedName);
    if (packed.dtype() != DType.U8 || packed.shape().length != 2) {
      throw new SerializationException(file.path() + ": '" + packedName + "' must be U8 of shape [rows, ceil(cols/4)], is "
          + packed.dtype() + Arrays.toString(packed.shape()));
    }
    String meta = file.metadata().get(packedName);
    if (meta == null) {
      throw new SerializationException(file.path() + ": packed ternary tensor '" + packedName
          + "' has no metadata entry of the same name giving cols and group_size");
    }
    int cols;
    int groupSize;
    try {
      JsonNode m = JSON.readTree(meta);
      if (!FORMAT.equals(m.path("format").asText()) || !m.path("cols").canConvertToInt() || !m.path("group_size").canConvertToInt()
          || !m.path("cols").isIntegralNumber() || !m.path("group_size").isIntegralNumber()) {
        throw new SerializationException(file.path() + ": metadata of '" + packedName + "' must be {\"format\":\"" + FORMAT
            + "\",\"cols\":int,\"group_size\":int}, got " + meta);
      }
      cols = m.get("cols").intValue();
      groupSize = m.get("group_size").intValue();
    } catch (IOException e) {
      throw new SerializationException(file.path() + ": metadata of '" + packedName + "' is not JSON: " + meta, e);
    }
    long rowsL = packed.shape()[0];
    long bpr = packed.shape()[1];
    if (cols <= 0 || groupSize <= 0 || bpr != (cols + 3L) / 4 || rowsL <= 0 || rowsL > Integer.MAX_VALUE) {
      throw new ShapeException(file.path() + ": '" + packedName + "' has shape " + Arrays.toString(packed.shape())
          + " which does not fit cols=" + cols + ", group_size=" + groupSize + " (needs [rows, " + (cols + 3L) / 4 + "])");
    }
    int rows = (int) rowsL;
    int groups = (cols + groupSize - 1) / groupSize;
    String scaleName = prefix + SCALE_SUFFIX;
    long[] expected = groups == 1 ? new long[] {rows} : new long[] {rows, groups};
    TensorInfo scale = file.info(scaleName);
    if (!Arrays.equals(scale.shape(), expected) && !(groups == 1 && Arrays.equals(scale.shape(), new long[] {rows, 1}))) {
      throw new ShapeException(file.path() + ": '" + scaleName + "' has shape " + Arrays.toString(scale.shape()) + ", expected "
          + Arrays.toString(expected));
    }
    return PackedTernary.fromTritterBytes(file.bytes(packedName), rows, cols, file.floats(scaleName), groupSize);
  }
}
