package dev.aphelion.tritter.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.kernel.Vectorization;
import dev.aphelion.tritter.random.SplitMix64;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The count sketch encoding: the specification, both kernel paths, the two rounds, bad input. */
class CountSketchTest {

  private static CompressionConfig config(double ratio, int rows, long seed) {
    return CompressionConfig.builder().compressionRatio(ratio).encoding(GradientEncoding.COUNT_SKETCH).sketchRows(rows)
        .seed(seed).build();
  }

  private static float[] gradient(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] g = new float[n];
    for (int i = 0; i < n; i++) {
      g[i] = (float) (r.nextGaussian() * (r.nextInt(50) == 0 ? 20 : 1));
    }
    return g;
  }

  /**
   * The table message straight from the formulas of docs/formats.md, one coordinate at a time in
   * index order (a bucket then adds its blocks in ascending order, as specified).
   */
  static byte[] referenceTable(float[] e, int n, int rows, int c, int k, long seed, long step) {
    float[][] h = new float[rows][c];
    for (int row = 0; row < rows; row++) {
      long rowSeed = GradientWireFormat.countSketchRowSeed(seed, step, row);
      for (int i = 0; i < n; i++) {
        int j = i / c, t = i % c;
        long z = SplitMix64.mix64(rowSeed + j);
        int rot = (int) (((SplitMix64.mix64(z + SplitMix64.GOLDEN_GAMMA) >>> 32) * c) >>> 32);
        long word = SplitMix64.mix64(z + (t / 64 + 2L) * SplitMix64.GOLDEN_GAMMA);
        boolean negative = ((word >>> (t % 64)) & 1) != 0;
        int u = (t + rot) % c;
        h[row][u] = h[row][u] + (negative ? -e[i] : e[i]);
      }
    }
    byte[] out = new byte[36 + 4 * rows + rows * c + 4];
    ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0, 0x43475041);
    out[4] = 2;
    out[5] = 3;
    out[6] = (byte) rows;
    out[7] = 0;
    b.putInt(8, n);
    b.putLong(12, step);
    b.putLong(20, new SplitMix64(seed).nextLong());
    b.putInt(28, c);
    b.putInt(32, k);
    for (int row = 0; row < rows; row++) {
      float amax = 0f;
      for (float v : h[row]) {
        amax = Math.max(amax, Math.abs(v));
      }
      b.putFloat(36 + 4 * row, amax / 127f);
      float inv = amax == 0f ? 0f : 127f / amax;
      for (int u = 0; u < c; u++) {
        long q = Math.round((double) (float) Math.rint(h[row][u] * inv));
        out[36 + 4 * rows + row * c + u] = (byte) Math.max(-127, Math.min(127, q));
      }
    }
    return GradientWireFormat.seal(out);
  }

  @ParameterizedTest(name = "n {0} ratio {1} rows {2}")
  @CsvSource({
    "1,0.9,1", "2,0.9,3", "7,0.9,3", "63,0.5,5", "64,0.4,1", "65,0.3,3", "127,0.2,15", "1000,0.1,3",
    "4097,0.03125,3", "10007,0.01,5", "30011,0.0033,3"
  })
  void tablesMatchTheSpecificationOnBothPaths(int n, double ratio, int rows) {
    CompressionConfig cfg = config(ratio, rows, 99 + n);
    GradientCompressor scalar = new GradientCompressor(cfg, n, Vectorization.scalar());
    GradientCompressor vector = new GradientCompressor(cfg, n, Vectorization.get());
    float[] e = new float[n];
    for (int step = 0; step < 3; step++) {
      float[] g = gradient(n, step * 7919L + n);
      if (step == 1) {
        g[0] = -0f;
        g[n - 1] = Float.MIN_VALUE;
      }
      TernaryCompressedGradient t = scalar.compress(g);
      for (int i = 0; i < n; i++) {
        e[i] = e[i] + g[i];
      }
      int c = t.sketchDimension();
      assertEquals(GradientWireFormat.countSketchColumns(n, ratio, rows), c);
      assertArrayEquals(referenceTable(e, n, rows, c, t.nonZeroCount(), 99 + n, step), t.toBytes(), "step " + step);
      assertArrayEquals(t.toBytes(), vector.compress(g).toBytes(), "vector path, step " + step);
      int[] chosen = scalar.select(t);
      assertArrayEquals(chosen, vector.select(t), "selection, step " + step);
      TernaryCompressedGradient v = scalar.values(t, chosen);
      assertArrayEquals(v.toBytes(), vector.values(t, chosen).toBytes());
      // round 2 keeps exactly the quantization error: e[i] - code * scale
      float scale = ByteBuffer.wrap(v.toBytes()).order(ByteOrder.LITTLE_ENDIAN).getFloat(36);
      for (int j = 0; j < chosen.length; j++) {
        int i = chosen[j];
        e[i] = e[i] - v.toBytes()[40 + j] * scale;
      }
      assertArrayEquals(e, scalar.residual());
      assertArrayEquals(e, vector.residual());
    }
  }

  @Test
  void medianKernelsAgreeOnOddSizesAndEdgeValues() {
    SketchKernels scalar = new ScalarSketchKernels();
    SketchKernels vector = Vectorization.get().select(SketchKernels.class, ScalarSketchKernels::new,
        java.lang.invoke.MethodHandles.lookup(), "PanamaSketchKernels");
    SplittableRandom r = new SplittableRandom(5);
    float[] edge = {0f, -0f, 1f, -1f, Float.MIN_VALUE, -Float.MAX_VALUE, Float.MAX_VALUE, 3.5f};
    for (int rows : new int[] {1, 3, 5, 7, 15}) {
      for (int len : new int[] {1, 3, 15, 16, 17, 100, 1023}) {
        int stride = len + 3;
        float[] tiles = new float[rows * stride];
        for (int u = 0; u < tiles.length; u++) {
          tiles[u] = r.nextInt(3) == 0 ? edge[r.nextInt(edge.length)] : (float) r.nextGaussian();
        }
        float[] a = new float[len + 2], b = new float[len + 2];
        scalar.median(tiles, rows, stride, len, a, 2);
        vector.median(tiles, rows, stride, len, b, 2);
        assertArrayEquals(a, b, rows + " rows, " + len);
        for (int t = 0; t < len; t++) {
          float[] col = new float[rows];
          for (int row = 0; row < rows; row++) {
            col[row] = tiles[row * stride + t];
          }
          Arrays.sort(col);
          assertEquals(col[rows / 2], a[2 + t], 0f, "the median");
        }
      }
    }
  }

  @Test
  void aSparseGradientIsFoundExactly() {
    int n = 50_000;
    float[] g = new float[n];
    int[] heavy = {3, 999, 1000, 27_182, 49_999};
    for (int i = 0; i < heavy.length; i++) {
      g[heavy[i]] = (i % 2 == 0 ? 1 : -1) * (10f + i);
    }
    GradientCompressor c = new GradientCompressor(config(0.05, 3, 1), n);
    TernaryCompressedGradient t = c.compress(g);
    int[] chosen = c.select(t);
    for (int i : heavy) {
      assertTrue(Arrays.binarySearch(chosen, i) >= 0, "heavy coordinate " + i + " selected");
    }
    float[] out = new float[n];
    c.scatter(c.values(t, chosen), chosen, out);
    for (int i : heavy) {
      assertEquals(g[i], out[i], Math.abs(g[i]) / 254, "value of " + i + " within half an int8 step");
    }
  }

  @Test
  void goldenBytes() throws Exception {
    int n = 3001;
    GradientCompressor c = new GradientCompressor(config(0.1, 3, 42), n, Vectorization.scalar());
    TernaryCompressedGradient t = c.compress(gradient(n, 42));
    TernaryCompressedGradient v = c.values(t, c.select(t));
    TernaryCompressedGradient sum = c.combine(List.of(v, v), new float[] {0.75f, 0.25f});
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    md.update(t.toBytes());
    md.update(v.toBytes());
    md.update(sum.toBytes());
    assertEquals(GOLDEN, HexFormat.of().formatHex(md.digest()), "the count sketch wire bytes changed: a format change "
        + "needs a new version (docs/formats.md) and new golden bytes");
    assertEquals(GradientWireFormat.countSketchMessageBytes(3, t.sketchDimension()), t.wireSize());
    assertTrue(t.wireSize() + v.wireSize() <= Math.floor(0.1 * 4 * n), "both rounds fit the budget");
  }

  /** SHA-256 of the table, values and summed values messages above (scalar path, 2026-12-03). */
  static final String GOLDEN = "550f1d52b2aeaccfbc2a9646a6c6fc0e3fbfe24c9f1c2afcfab15efed8704ad6";

  @Test
  void combineIsTheWeightedSumInListOrder() {
    int n = 2000;
    List<GradientCompressor> ws = GradientCompressor.forWorkers(config(0.2, 3, 8), n, 3);
    List<TernaryCompressedGradient> tables = IntStream.range(0, 3).mapToObj(w -> ws.get(w).compress(gradient(n, w))).toList();
    float[] weights = {0.5f, 0.3f, 0.2f};
    GradientCompressor rx = new GradientCompressor(config(0.2, 3, 8), n);
    int[] chosen = rx.select(rx.combine(tables, weights));
    List<TernaryCompressedGradient> values = IntStream.range(0, 3).mapToObj(w -> ws.get(w).values(tables.get(w), chosen)).toList();
    float[] out = new float[n];
    rx.scatter(rx.combine(values, weights), chosen, out);
    for (int j = 0; j < chosen.length; j++) {
      float acc = 0f;
      for (int w = 0; w < 3; w++) {
        byte[] b = values.get(w).toBytes();
        float scale = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getFloat(36);
        acc = acc + weights[w] * (b[40 + j] * scale);
      }
      assertEquals(acc, out[chosen[j]], 0f);
    }
    assertEquals(chosen.length, Arrays.stream(chosen).filter(i -> true).count());
    // misuse is refused with a reason
    assertThrows(ShapeException.class, () -> rx.combine(tables, new float[] {1f, 1f}));
    assertThrows(ShapeException.class, () -> rx.combine(List.of(tables.get(0), values.get(0)), new float[] {1f, 1f}));
    assertThrows(ShapeException.class, () -> rx.combine(tables, new float[] {1f, Float.NaN, 1f}));
    assertThrows(ShapeException.class, () -> rx.combine(List.of(), new float[0]));
    TernaryCompressedGradient next = ws.get(0).compress(gradient(n, 9));
    assertThrows(ShapeException.class, () -> rx.combine(List.of(tables.get(1), next), new float[] {1f, 1f}));
    GradientCompressor hh = new GradientCompressor(CompressionConfig.builder().compressionRatio(0.2).seed(8).build(), n);
    assertThrows(ShapeException.class, () -> rx.combine(List.of(hh.compress(gradient(n, 1))), new float[] {1f}));
  }

  @Test
  void theRoundsMustRunInOrder() {
    int n = 500;
    GradientCompressor c = new GradientCompressor(config(0.5, 3, 2), n);
    TernaryCompressedGradient t = c.compress(gradient(n, 1));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> c.compress(gradient(n, 2)));
    assertTrue(e.getMessage().contains("round 2"), e.getMessage());
    int[] chosen = c.select(t);
    int[] shuffled = chosen.clone();
    shuffled[0] = chosen[1];
    shuffled[1] = chosen[0];
    assertThrows(ShapeException.class, () -> c.values(t, shuffled));
    assertThrows(ShapeException.class, () -> c.values(t, Arrays.copyOf(chosen, chosen.length - 1)));
    TernaryCompressedGradient v = c.values(t, chosen);
    assertThrows(ShapeException.class, () -> c.decompress(v), "values decode with scatter");
    assertThrows(ShapeException.class, () -> c.select(v));
    c.compress(gradient(n, 2));
    assertThrows(ShapeException.class, () -> c.values(t, chosen), "round 2 of an older step");
    assertThrows(ConfigException.class, () -> config(0.1, 2, 0));
    assertThrows(ConfigException.class, () -> config(0.1, 17, 0));
  }

  private static byte[] resealed(byte[] m) {
    return GradientWireFormat.seal(m);
  }

  @Test
  void corruptMessagesNameTheirProblem() {
    int n = 1000;
    GradientCompressor c = new GradientCompressor(config(0.3, 3, 4), n);
    TernaryCompressedGradient t = c.compress(gradient(n, 3));
    TernaryCompressedGradient v = c.values(t, c.select(t));
    byte[] table = t.toBytes();
    byte[] values = v.toBytes();
    List<Object[]> cases = List.of(
        new Object[] {mutate(table, m -> m[6] = 2), "rows must be odd"},
        new Object[] {mutate(table, m -> m[6] = 0), "rows must be odd"},
        new Object[] {mutate(table, m -> m[7] = 3), "message kind"},
        new Object[] {mutate(table, m -> ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).putInt(28, n + 1)), "columns"},
        new Object[] {mutate(table, m -> ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).putInt(32, 0)), " k "},
        new Object[] {mutate(table, m -> ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).putFloat(36, -1f)), "scale 0"},
        new Object[] {mutate(table, m -> ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).putFloat(40, Float.NaN)), "scale 1"},
        new Object[] {mutate(table, m -> ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).putFloat(36, 1e37f)), "scale 0"},
        new Object[] {mutate(table, m -> m[60] = Byte.MIN_VALUE), "-128"},
        new Object[] {mutate(values, m -> m[45] = Byte.MIN_VALUE), "-128"},
        new Object[] {mutate(values, m -> m[7] = 2), "length"},
        new Object[] {resealed(Arrays.copyOf(table, table.length - 1)), "length"});
    for (Object[] k : cases) {
      byte[] m = (byte[]) k[0];
      SerializationException e = assertThrows(SerializationException.class, () -> TernaryCompressedGradient.fromBytes(m));
      assertTrue(e.getMessage().contains((String) k[1]), k[1] + ": " + e.getMessage());
    }
    byte[] flipped = table.clone();
    flipped[50] ^= 1;
    assertTrue(assertThrows(SerializationException.class, () -> TernaryCompressedGradient.fromBytes(flipped)).getMessage()
        .contains("checksum"));
    GradientCompressor other = new GradientCompressor(config(0.3, 3, 5), n);
    assertThrows(SerializationException.class, () -> other.read(table), "another seed");
  }

  private static byte[] mutate(byte[] m, java.util.function.Consumer<byte[]> f) {
    byte[] b = m.clone();
    f.accept(b);
    return resealed(b);
  }
}
