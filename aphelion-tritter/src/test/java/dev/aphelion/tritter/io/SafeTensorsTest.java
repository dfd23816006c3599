package dev.aphelion.tritter.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.ternary.PackedTernary;
import dev.aphelion.tritter.ternary.TernaryQuantization;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {

  @TempDir Path dir;

  static float[] random(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return v;
  }

  @Test
  void writesAndReadsBackEveryFloatTypeAndMetadata() throws IOException {
    float[] a = random(3 * 5, 1);
    float[] b = random(7, 2);
    float[] c = random(2 * 3 * 4, 3);
    Path f = dir.resolve("m.safetensors");
    new SafeTensorsWriter()
        .addF32("a", new long[] {3, 5}, a)
        .addFloats("b", DType.F16, new long[] {7}, b)
        .addFloats("c", DType.BF16, new long[] {2, 3, 4}, c)
        .add("raw", DType.I32, new long[] {2}, new byte[] {1, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF})
        .add("empty", DType.F32, new long[] {0, 4}, new byte[0])
        .metadata("format", "pt")
        .write(f);
    // The header length is a multiple of 8 so that the data section is aligned.
    byte[] bytes = Files.readAllBytes(f);
    long headerLen = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertEquals(0, headerLen % 8);
    try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
      assertEquals(java.util.List.of("a", "b", "c", "raw", "empty"), st.names());
      assertEquals(Map.of("format", "pt"), st.metadata());
      assertArrayEquals(a, st.floats("a", 3, 5));
      float[] b2 = st.floats("b");
      float[] c2 = st.floats("c");
      for (int i = 0; i < b.length; i++) {
        assertEquals(Float.float16ToFloat(Float.floatToFloat16(b[i])), b2[i]);
        assertEquals(b[i], b2[i], Math.abs(b[i]) * 0x1p-11 + 1e-7);
      }
      for (int i = 0; i < c.length; i++) {
        assertEquals(c[i], c2[i], Math.abs(c[i]) * 0x1p-8);
      }
      assertEquals(DType.BF16, st.info("c").dtype());
      assertArrayEquals(new long[] {2, 3, 4}, st.info("c").shape());
      assertEquals(-1, st.segment("raw").getAtIndex(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 1));
      assertEquals(0, st.floats("empty").length);
      assertThrows(SerializationException.class, () -> st.floats("raw"));
      ShapeException e = assertThrows(ShapeException.class, () -> st.floats("a", 5, 3));
      assertTrue(e.getMessage().contains("[3, 5]"), e.getMessage());
      SerializationException missing = assertThrows(SerializationException.class, () -> st.floats("model.missing"));
      assertTrue(missing.getMessage().contains("missing tensor 'model.missing'"), missing.getMessage());
    }
  }

  @Test
  void bf16RoundsToNearestEven() {
    assertEquals((short) 0x3F80, Float16.floatToBf16(1f));
    // 1 + 2^-8 is halfway between two bf16 values: ties go to the even one (1.0).
    assertEquals((short) 0x3F80, Float16.floatToBf16(1f + 0x1p-8f));
    assertEquals((short) 0x3F81, Float16.floatToBf16(1f + 0x1p-8f + 0x1p-20f));
    // 1 + 3·2^-8 is halfway between 0x3F81 and 0x3F82: the even one is 0x3F82.
    assertEquals((short) 0x3F82, Float16.floatToBf16(1f + 3 * 0x1p-8f));
    assertTrue(Float.isNaN(Float16.bf16ToFloat(Float16.floatToBf16(Float.NaN))));
    assertEquals(Float.POSITIVE_INFINITY, Float16.bf16ToFloat(Float16.floatToBf16(Float.POSITIVE_INFINITY)));
    assertEquals(-2.5f, Float16.bf16ToFloat(Float16.floatToBf16(-2.5f)));
  }

  @Test
  void packedTernaryRoundTripsOnOddShapes() {
    int[][] shapes = {{1, 1, 1}, {3, 3, 3}, {2, 17, 17}, {5, 63, 8}, {4, 65, 64}, {3, 1021, 128}};
    for (int[] s : shapes) {
      int rows = s[0];
      int cols = s[1];
      int group = s[2];
      PackedTernary p = TernaryQuantization.absmean(random(rows * cols, rows * 31L + cols), rows, cols, group).toPacked();
      Path f = dir.resolve("t" + rows + "x" + cols + ".safetensors");
      SafeTensorsWriter w = new SafeTensorsWriter();
      TernaryTensors.add(w, "layer", p);
      w.write(f);
      try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
        assertEquals(DType.U8, st.info("layer.weight_packed").dtype());
        assertArrayEquals(new long[] {rows, (cols + 3) / 4}, st.info("layer.weight_packed").shape());
        assertTrue(TernaryTensors.contains(st, "layer"));
        assertEquals(p, TernaryTensors.read(st, "layer"));
      }
    }
  }

  @Test
  void packedTernaryMatchesTheTritterByteFormat() {
    // Test vector from tritter-accel: [[1,0,-1,1],[-1,0,1,-1]] packs to [0x61, 0x92].
    PackedTernary p = PackedTernary.fromTrits(new byte[] {1, 0, -1, 1, -1, 0, 1, -1}, 2, 4, new float[] {1f, 2f}, 4);
    Path f = dir.resolve("v.safetensors");
    SafeTensorsWriter w = new SafeTensorsWriter();
    TernaryTensors.add(w, "x", p);
    w.write(f);
    try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
      assertArrayEquals(new byte[] {0x61, (byte) 0x92}, st.bytes("x.weight_packed"));
      assertArrayEquals(new float[] {1f, 2f}, st.floats("x.weight_scale", 2));
      assertEquals("{\"format\":\"tritter-2bit\",\"cols\":4,\"group_size\":4}", st.metadata().get("x.weight_packed"));
    }
  }

  @Test
  void packedTernaryWithoutMetadataOrScaleIsRejected() {
    Path f = dir.resolve("nometa.safetensors");
    new SafeTensorsWriter().add("x.weight_packed", DType.U8, new long[] {1, 1}, new byte[] {1}).write(f);
    try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
      SerializationException e = assertThrows(SerializationException.class, () -> TernaryTensors.read(st, "x"));
      assertTrue(e.getMessage().contains("no metadata"), e.getMessage());
    }
    Path g = dir.resolve("noscale.safetensors");
    new SafeTensorsWriter().add("x.weight_packed", DType.U8, new long[] {1, 1}, new byte[] {1})
        .metadata("x.weight_packed", "{\"format\":\"tritter-2bit\",\"cols\":3,\"group_size\":3}").write(g);
    try (SafeTensorsFile st = SafeTensorsFile.open(g)) {
      SerializationException e = assertThrows(SerializationException.class, () -> TernaryTensors.read(st, "x"));
      assertTrue(e.getMessage().contains("missing tensor 'x.weight_scale'"), e.getMessage());
    }
    Path h = dir.resolve("wrongcols.safetensors");
    new SafeTensorsWriter().add("x.weight_packed", DType.U8, new long[] {1, 1}, new byte[] {1}).addF32("x.weight_scale", new long[] {1}, new float[] {1})
        .metadata("x.weight_packed", "{\"format\":\"tritter-2bit\",\"cols\":9,\"group_size\":9}").write(h);
    try (SafeTensorsFile st = SafeTensorsFile.open(h)) {
      assertThrows(ShapeException.class, () -> TernaryTensors.read(st, "x"));
    }
  }

  private Path rawBytes(String name, byte[] h, int dataBytes) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    buf.putLong(h.length).put(h);
    Path f = dir.resolve(name);
    Files.write(f, buf.array());
    return f;
  }

  private static byte[] concat(String a, byte[] mid, String b) {
    byte[] x = a.getBytes(StandardCharsets.UTF_8);
    byte[] y = b.getBytes(StandardCharsets.UTF_8);
    byte[] out = Arrays.copyOf(x, x.length + mid.length + y.length);
    System.arraycopy(mid, 0, out, x.length, mid.length);
    System.arraycopy(y, 0, out, x.length + mid.length, y.length);
    return out;
  }

  private static final String ENTRY = "\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";

  /** Regression: bad UTF-8 was replaced by U+FFFD (renaming the tensor), lone surrogate escapes were kept. */
  @Test
  void headerMustBeStrictUtf8() throws IOException {
    String msg = openFails(rawBytes("c328.st", concat("{\"a", new byte[] {(byte) 0xC3, 0x28}, ENTRY), 1));
    assertTrue(msg.contains("not valid UTF-8"), msg);
    assertTrue(openFails(rawBytes("ff.st", concat("{\"a", new byte[] {(byte) 0xFF}, ENTRY), 1)).contains("not valid UTF-8"));
    // CESU-style encoded surrogate D800.
    assertTrue(openFails(rawBytes("ed.st", concat("{\"a", new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, ENTRY), 1)).contains("not valid UTF-8"));
    msg = openFails(raw("esc.st", "{\"a\\ud800" + ENTRY, 1));
    assertTrue(msg.contains("unpaired surrogate"), msg);
    assertTrue(openFails(raw("metaesc.st", "{\"__metadata__\":{\"k\":\"\\udc00\"}}", 0)).contains("unpaired surrogate"));
    // Two distinct invalid names are invalid names, not a duplicate.
    byte[] two = concat("{\"a", new byte[] {(byte) 0xFE},
        "\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},\"a\u00ff\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}");
    msg = openFails(rawBytes("two.st", two, 2));
    assertTrue(msg.contains("not valid UTF-8") && !msg.contains("uplicate"), msg);
    assertTrue(openFails(raw("space.st", " {}", 0)).contains("start with '{'"));
    // Valid non-ASCII names still open.
    try (SafeTensorsFile f = SafeTensorsFile.open(raw("ok.st", "{\"\u00e9\ud83d\ude00" + ENTRY, 1))) {
      assertEquals(java.util.List.of("\u00e9\ud83d\ude00"), f.names());
    }
  }

  /** Regression: [2.0,3] was accepted as a shape. */
  @Test
  void shapeDimensionsMustBeIntegers() throws IOException {
    for (String dim : new String[] {"2.0", "2e0", "\"2\"", "true", "null", "18446744073709551616"}) {
      String msg = openFails(raw("dim.st", "{\"a\":{\"dtype\":\"U8\",\"shape\":[" + dim + ",3],\"data_offsets\":[0,6]}}", 6));
      assertTrue(msg.contains("bad dimension"), dim + ": " + msg);
    }
  }

  /** Regression: F8_E4M3 (and the other byte-sized reference dtypes) were rejected as unknown. */
  @Test
  void readsF8Tensors() throws IOException {
    byte[] e4m3 = {0x38, (byte) 0xB8, 0x7E, 0x01, 0x7F, (byte) 0x80, 0x08, 0x3C};
    byte[] e5m2 = {0x3C, (byte) 0xBC, 0x7C, 0x01, 0x7F, 0x00};
    Path f = dir.resolve("f8.safetensors");
    new SafeTensorsWriter()
        .add("e4m3", DType.F8_E4M3, new long[] {2, 4}, e4m3)
        .add("e5m2", DType.F8_E5M2, new long[] {6}, e5m2)
        .add("scale", DType.F8_E8M0, new long[] {1}, new byte[] {127})
        .add("c", DType.C64, new long[] {1}, new byte[8])
        .write(f);
    try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
      float[] a = st.floats("e4m3");
      assertArrayEquals(new float[] {1f, -1f, 448f, 0x1p-9f, Float.NaN, -0f, 0x1p-6f, 1.5f}, a);
      float[] b = st.floats("e5m2");
      assertArrayEquals(new float[] {1f, -1f, Float.POSITIVE_INFINITY, 0x1p-16f, Float.NaN, 0f}, b);
      assertEquals(DType.F8_E8M0, st.info("scale").dtype());
      assertEquals(8, st.info("c").byteLength());
      assertThrows(SerializationException.class, () -> st.floats("scale"));
    }
    try (SafeTensorsFile st = SafeTensorsFile.open(raw("f8raw.st", "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2))) {
      assertEquals(DType.F8_E4M3, st.info("w").dtype());
    }
  }

  /** Every E4M3 byte decodes to the value its bit fields define. */
  @Test
  void e4m3MatchesItsDefinition() {
    for (int b = 0; b < 256; b++) {
      int e = (b >> 3) & 15;
      int m = b & 7;
      double mag = e == 0 ? m / 8.0 * Math.pow(2, -6) : (1 + m / 8.0) * Math.pow(2, e - 7);
      float expected = (e == 15 && m == 7) ? Float.NaN : (float) ((b & 0x80) != 0 ? -mag : mag);
      assertEquals(expected, SafeTensorsFile.e4m3ToFloat((byte) b), "byte " + b);
    }
  }

  /** Regression: a shape whose byte size overflows was accepted (and the reader then refused the file). */
  @Test
  void writerRefusesOverflowAndUnencodableStrings() {
    SafeTensorsWriter w = new SafeTensorsWriter();
    ShapeException e = assertThrows(ShapeException.class, () -> w.add("x", DType.F32, new long[] {1L << 62}, new byte[0]));
    assertTrue(e.getMessage().contains("more than"), e.getMessage());
    assertThrows(ShapeException.class, () -> w.add("y", DType.U8, new long[] {1L << 32, 1L << 32}, new byte[0]));
    assertThrows(ShapeException.class, () -> w.addF32("z", new long[] {1L << 62, 4}, new float[0]));
    SerializationException s = assertThrows(SerializationException.class, () -> w.add("a\ud800", DType.U8, new long[] {0}, new byte[0]));
    assertTrue(s.getMessage().contains("unpaired surrogate"), s.getMessage());
    assertThrows(SerializationException.class, () -> w.metadata("k\udc00", "v"));
    assertThrows(SerializationException.class, () -> w.metadata("k", "\ud800"));
    assertEquals(java.util.List.of(), w.names());
  }

  /** Regression: reading a mapping whose file another process truncated threw java.lang.InternalError. */
  @Test
  void truncatedWhileMappedIsASerializationError() throws IOException {
    Path f = dir.resolve("big.safetensors");
    new SafeTensorsWriter().addF32("w", new long[] {1 << 18}, random(1 << 18, 3))
        .add("b", DType.U8, new long[] {1 << 20}, new byte[1 << 20]).write(f);
    try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
      try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
        ch.truncate(4096);
      }
      SerializationException e = assertThrows(SerializationException.class, () -> st.floats("w"));
      assertTrue(e.getMessage().contains("changed while mapped") && e.getMessage().contains("4096"), e.getMessage());
      assertThrows(SerializationException.class, () -> st.bytes("b"));
    }
  }

  /** Regression: two writers shared one fixed temporary name and failed with a bare path as the message. */
  @Test
  void concurrentWritersToOnePathEachWriteAWholeFile() throws Exception {
    Path f = dir.resolve("race.safetensors");
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      java.util.List<java.util.concurrent.Future<?>> futures = new java.util.ArrayList<>();
      for (int w = 0; w < 4; w++) {
        float[] values = random(4096, w);
        futures.add(pool.submit(() -> {
          for (int i = 0; i < 25; i++) {
            new SafeTensorsWriter().addF32("w", new long[] {4096}, values).write(f);
          }
          return null;
        }));
      }
      for (java.util.concurrent.Future<?> x : futures) {
        x.get();
      }
    } finally {
      pool.shutdownNow();
    }
    try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
      assertEquals(4096, st.floats("w").length);
    }
    try (var files = Files.list(dir)) {
      assertEquals(java.util.List.of(f), files.toList());
    }
  }

  private Path raw(String name, String header, int dataBytes) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer buf = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    buf.putLong(h.length).put(h);
    Path f = dir.resolve(name);
    Files.write(f, buf.array());
    return f;
  }

  private static String openFails(Path f) {
    SerializationException e = assertThrows(SerializationException.class, () -> SafeTensorsFile.open(f).close());
    assertEquals(ErrorCode.SERIALIZATION, e.code());
    return e.getMessage();
  }

  @Test
  void malformedFilesGetClearErrors() throws IOException {
    assertTrue(openFails(raw("unknown.st", "{\"a\":{\"dtype\":\"F7\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4)).contains("unknown dtype 'F7'"));
    assertTrue(openFails(raw("shape.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4)).contains("needs 8"));
    assertTrue(openFails(raw("range.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4)).contains("run past the data section"));
    assertTrue(openFails(raw("overlap.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)).contains("overlap"));
    assertTrue(openFails(raw("hole.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)).contains("hole"));
    assertTrue(openFails(raw("extra.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8)).contains("cover only 4"));
    assertTrue(openFails(raw("json.st", "{\"a\":", 0)).contains("not valid JSON"));
    assertTrue(openFails(raw("array.st", "[1,2]", 0)).contains("start with '{'"));
    assertTrue(openFails(raw("noshape.st", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4)).contains("'shape'"));
    assertTrue(openFails(raw("neg.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4)).contains("bad dimension"));
    assertTrue(openFails(raw("offs.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4)).contains("invalid data_offsets"));
    assertTrue(openFails(raw("meta.st", "{\"__metadata__\":{\"k\":1}}", 0)).contains("not a string"));
    assertTrue(openFails(raw("dup.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4)).contains("not valid JSON"));
  }

  @Test
  void truncatedFilesGetClearErrors() throws IOException {
    Path good = dir.resolve("good.safetensors");
    new SafeTensorsWriter().addF32("w", new long[] {4, 4}, random(16, 5)).write(good);
    byte[] all = Files.readAllBytes(good);
    for (int cut : new int[] {0, 5, 8, 20, all.length - 1}) {
      Path f = dir.resolve("cut" + cut);
      Files.write(f, Arrays.copyOf(all, cut));
      String msg = openFails(f);
      assertTrue(msg.contains("truncated") || msg.contains("run past"), cut + ": " + msg);
    }
    Path huge = dir.resolve("huge");
    Files.write(huge, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE).array());
    assertTrue(openFails(huge).contains("header length"));
    AphelionException io = assertThrows(AphelionException.class, () -> SafeTensorsFile.open(dir.resolve("nope")));
    assertEquals(ErrorCode.IO, io.code());
  }

  @Test
  void writerRejectsInconsistentTensorsAndClosedFilesRejectReads() {
    SafeTensorsWriter w = new SafeTensorsWriter();
    assertThrows(ShapeException.class, () -> w.addF32("a", new long[] {2, 2}, new float[3]));
    assertThrows(ShapeException.class, () -> w.add("b", DType.F16, new long[] {3}, new byte[4]));
    assertThrows(SerializationException.class, () -> w.add("__metadata__", DType.U8, new long[] {0}, new byte[0]));
    assertThrows(SerializationException.class, () -> w.addFloats("c", DType.I8, new long[] {1}, new float[1]));
    w.addF32("a", new long[] {1}, new float[] {1});
    assertThrows(SerializationException.class, () -> w.addF32("a", new long[] {1}, new float[] {1}));
    Path f = dir.resolve("closed.safetensors");
    w.write(f);
    SafeTensorsFile st = SafeTensorsFile.open(f);
    st.close();
    st.close();
    assertThrows(IllegalStateException.class, () -> st.floats("a"));
    try (var files = Files.list(dir)) {
      assertEquals(java.util.List.of(f), files.toList(), "no temporary file is left behind");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
