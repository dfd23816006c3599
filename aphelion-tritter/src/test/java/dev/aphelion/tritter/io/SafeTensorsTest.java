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
    assertTrue(openFails(raw("array.st", "[1,2]", 0)).contains("JSON object"));
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
    assertFalse(Files.exists(dir.resolve("closed.safetensors.tmp")));
  }
}
