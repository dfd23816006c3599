package dev.aphelion.tritter.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.tritter.kernel.Vectorization;
import java.lang.invoke.MethodHandles;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The VSA sketch encoding: golden vectors of the specification, scalar-vs-vector agreement. */
class VsaSketchTest {

  /** The golden-vector gradient of docs/formats.md: g_i = ((i * 7919) mod 201 - 100) / 64, exact in f32. */
  static float[] goldenGradient(int n) {
    float[] g = new float[n];
    for (int i = 0; i < n; i++) {
      g[i] = (float) (((i * 7919L) % 201) - 100) / 64f;
    }
    return g;
  }

  static CompressionConfig sketch(double ratio, long seed) {
    return CompressionConfig.builder().compressionRatio(ratio).seed(seed).encoding(GradientEncoding.VSA_SKETCH).build();
  }

  /** n = 200, ratio 0.07, seed 42: budget 56 bytes, m = 64, four blocks (64, 64, 64, 8); steps 0 and 1. */
  static final String[] GOLDEN_SMALL = {
    "4150474302020000c80000000000000000000000956eeb2f2632d7bd40000000cb3d113f624a6021162841519281229085804222972e50ef",
    "4150474302020000c80000000100000000000000956eeb2f2632d7bd4000000071657c3f8114929601826402a29905004410545adfd93bfe",
  };

  @Test
  void goldenVectorSmall() {
    for (Vectorization v : new Vectorization[] {Vectorization.scalar(), Vectorization.vector()}) {
      GradientCompressor c = new GradientCompressor(sketch(0.07, 42), 200, v);
      float[] g = goldenGradient(200);
      for (int step = 0; step < GOLDEN_SMALL.length; step++) {
        byte[] wire = c.compress(g).toBytes();
        System.out.println("golden small step " + step + ": " + HexFormat.of().formatHex(wire));
        assertEquals(GOLDEN_SMALL[step], HexFormat.of().formatHex(wire), v + " step " + step);
      }
    }
  }

  /** n = 5000, ratio 0.03, seed 7 (m = 2240: blocks 2240, 2240, 520); CRC32C field and scale of steps 0..2. */
  static final String[][] GOLDEN_LARGE = {
    {"ee2e7019", "3f4cc800"},
    {"326a4516", "3f96a347"},
    {"84641348", "3fc9d77e"},
  };

  @Test
  void goldenVectorLarge() {
    for (Vectorization v : new Vectorization[] {Vectorization.scalar(), Vectorization.vector()}) {
      GradientCompressor c = new GradientCompressor(sketch(0.03, 7), 5000, v);
      float[] g = goldenGradient(5000);
      for (int step = 0; step < GOLDEN_LARGE.length; step++) {
        TernaryCompressedGradient t = c.compress(g);
        byte[] wire = t.toBytes();
        assertEquals(2240, t.sketchDimension());
        String crc = HexFormat.of().formatHex(wire, wire.length - 4, wire.length);
        String scale = Integer.toHexString(Float.floatToRawIntBits(t.scales()[0]));
        System.out.println("golden large step " + step + ": crc " + crc + " scale " + scale + " (" + t.scales()[0] + ", nnz " + t.nonZeroCount() + ")");
        assertEquals(GOLDEN_LARGE[step][0], crc, v + " step " + step);
        assertEquals(GOLDEN_LARGE[step][1], scale, v + " step " + step);
      }
    }
  }

  @Test
  void goldenIntermediates() {
    long s = VsaSketch.stepSeed(42, 0);
    assertEquals(0x44006e16dca4aa75L, s);
    long[] z = {0xdf269a7f1d5c257fL, 0x6c2b14746fbb7059L, 0x8f3b9104b3cd58f4L, 0x40a5a007eb87c0e7L};
    int[] r = {61, 2, 34, 42};
    long[] key0 = {0x7987f60f228e4af3L, 0x2f7e011cfb742a19L, 0xe6377f0b6cf542b4L, 0xb2efffd2146370bfL};
    long[] words = new long[2];
    for (int j = 0; j < 4; j++) {
      assertEquals(z[j], VsaSketch.blockState(s, j), "z_" + j);
      assertEquals(r[j], VsaSketch.rotation(z[j], 64), "r_" + j);
      VsaSketch.keys(z[j], 64, words);
      assertEquals(key0[j], words[0], "key word 0 of block " + j);
    }
  }

  @Test
  void dimensionFormula() {
    assertEquals(64, VsaSketch.dimension(200, 0.07));
    assertEquals(2240, VsaSketch.dimension(5000, 0.03));
    assertEquals(1, VsaSketch.dimension(10, 0.01), "budget below the overhead: one bucket");
    assertEquals(4010, VsaSketch.dimension(4010, 0.1), "capped at n");
    int n = 1_000_000;
    for (double ratio : new double[] {1 / 16.0, 1 / 32.0, 0.01}) {
      int m = VsaSketch.dimension(n, ratio);
      long wire = GradientWireFormat.sketchMessageBytes(m);
      assertTrue(wire <= Math.floor(ratio * 4 * n) && wire > Math.floor(ratio * 4 * n) - 4, "ratio " + ratio);
    }
    // above 1/16 the hypervector reaches n buckets: 2 bits per coordinate, smaller than the budget
    assertEquals(n, VsaSketch.dimension(n, 0.1));
  }

  static float[] values(int n, long seed) {
    float[] a = GradientCompressorTest.heavyTailed(n, seed);
    if (n > 3) {
      a[0] = -0f;
      a[1] = 0f;
      a[3] = Float.MIN_VALUE;
    }
    return a;
  }

  @Test
  void kernelsAgreeBitForBitOnOddSizes() {
    SketchKernels s = new ScalarSketchKernels();
    SketchKernels v = Vectorization.vector().select(SketchKernels.class, ScalarSketchKernels::new, MethodHandles.lookup(), "PanamaSketchKernels");
    assertEquals("PanamaSketchKernels", v.getClass().getSimpleName());
    SplittableRandom r = new SplittableRandom(5);
    for (int m : new int[] {1, 3, 17, 63, 64, 65, 1021, 1024, 1025, 4099}) {
      long[] keys = new long[(m + 63) / 64 + 1];
      for (int i = 0; i < keys.length; i++) {
        keys[i] = r.nextLong();
      }
      float[] e = values(3 * m + 5, m);
      for (int rot : new int[] {0, 1, m / 2, m - 1}) {
        for (int len : new int[] {m, Math.max(1, m / 3), Math.max(1, m - 1)}) {
          float[] h1 = values(m, m + 1), h2 = h1.clone();
          s.bindAdd(h1, m, rot, e, 5, len, keys);
          v.bindAdd(h2, m, rot, e, 5, len, keys);
          assertArrayEquals(bits(h1), bits(h2), "bindAdd m=" + m + " r=" + rot + " len=" + len);
          // the fused residual update: e + c * g stored, then bound; against addScaled + bindAdd
          float[] g = values(3 * m + 5, m + 9);
          for (float c : new float[] {1f, 0.37f, -2.5f}) {
            float[] hs = values(m, m + 3), hv = hs.clone(), hr = hs.clone();
            float[] es = e.clone(), ev = e.clone(), er = e.clone();
            s.addScaledBindAdd(hs, m, rot, es, g, c, 5, len, keys);
            v.addScaledBindAdd(hv, m, rot, ev, g, c, 5, len, keys);
            for (int i = 5; i < 5 + len; i++) {
              er[i] = er[i] + c * g[i];
            }
            s.bindAdd(hr, m, rot, er, 5, len, keys);
            String at = " m=" + m + " r=" + rot + " len=" + len + " c=" + c;
            assertArrayEquals(bits(er), bits(es), "addScaledBindAdd residual, scalar" + at);
            assertArrayEquals(bits(er), bits(ev), "addScaledBindAdd residual, vector" + at);
            assertArrayEquals(bits(hr), bits(hs), "addScaledBindAdd buckets, scalar" + at);
            assertArrayEquals(bits(hr), bits(hv), "addScaledBindAdd buckets, vector" + at);
          }
          for (int op : new int[] {SketchKernels.SET, SketchKernels.ADD, SketchKernels.SUBTRACT}) {
            float[] o1 = values(len + 7, 3), o2 = o1.clone();
            s.unbind(h1, m, rot, keys, o1, 7, len, op);
            v.unbind(h1, m, rot, keys, o2, 7, len, op);
            assertArrayEquals(bits(o1), bits(o2), "unbind m=" + m + " r=" + rot + " len=" + len + " op=" + op);
          }
        }
      }
      // the count sketch's three-row estimate against unbinding each row into a tile, then the median
      long[] keys1 = new long[keys.length], keys2 = new long[keys.length];
      for (int i = 0; i < keys.length; i++) {
        keys1[i] = r.nextLong();
        keys2[i] = r.nextLong();
      }
      float[] row0 = values(m, m + 11), row1 = values(m, m + 12), row2 = values(m, m + 13);
      row1[m / 2] = -0f;
      row2[m / 2] = 0f;
      int[][] rotations = {{0, 0, 0}, {1, m / 2, m - 1}, {m - 1, 0, m / 3}, {m / 2, m / 2, 1}};
      for (int[] rot : rotations) {
        for (int len : new int[] {m, Math.max(1, m / 3), Math.max(1, m - 1)}) {
          float[] tiles = new float[3 * m];
          s.unbind(row0, m, rot[0], keys, tiles, 0, len, SketchKernels.SET);
          s.unbind(row1, m, rot[1], keys1, tiles, m, len, SketchKernels.SET);
          s.unbind(row2, m, rot[2], keys2, tiles, 2 * m, len, SketchKernels.SET);
          float[] want = values(len + 3, 7), o1 = want.clone(), o2 = want.clone();
          s.median(tiles, 3, m, len, want, 3);
          s.median3Unbind(row0, row1, row2, m, rot[0], rot[1], rot[2], keys, keys1, keys2, o1, 3, len);
          v.median3Unbind(row0, row1, row2, m, rot[0], rot[1], rot[2], keys, keys1, keys2, o2, 3, len);
          String at = " m=" + m + " r=" + java.util.Arrays.toString(rot) + " len=" + len;
          assertArrayEquals(bits(want), bits(o1), "median3Unbind, scalar" + at);
          assertArrayEquals(bits(want), bits(o2), "median3Unbind, vector" + at);
        }
      }
      float[] h = values(m, m + 2);
      for (float theta : new float[] {Float.NEGATIVE_INFINITY, 0f, 0.7f, 3f, Float.MAX_VALUE}) {
        assertEquals(Double.doubleToRawLongBits(s.laneSum(h, m, theta)), Double.doubleToRawLongBits(v.laneSum(h, m, theta)),
            "laneSum m=" + m + " theta=" + theta);
        if (theta >= 0) {
          byte[] p1 = new byte[3 + (m + 3) / 4], p2 = new byte[p1.length];
          assertEquals(s.ternarize(h, m, theta, p1, 3), v.ternarize(h, m, theta, p2, 3), "nnz m=" + m);
          assertArrayEquals(p1, p2, "ternarize m=" + m + " theta=" + theta);
          float[] d1 = new float[m], d2 = new float[m];
          s.expand(p1, 3, m, 0.25f, d1);
          v.expand(p1, 3, m, 0.25f, d2);
          assertArrayEquals(bits(d1), bits(d2), "expand m=" + m);
          for (float value : new float[] {-0.75f, -0f, 0f}) {
            float[] n1 = new float[m], n2 = new float[m];
            s.expand(p1, 3, m, value, n1);
            v.expand(p1, 3, m, value, n2);
            assertArrayEquals(bits(n1), bits(n2), "expand m=" + m + " value=" + value);
          }
          // unbinding straight from the trits, against expand + unbind; the message ends right
          // after the trits (p1) or has bytes after them (p3: the checksum of a real message)
          byte[] p3 = java.util.Arrays.copyOf(p1, p1.length + 4);
          for (byte[] packed : new byte[][] {p1, p3}) {
            for (float value : new float[] {0.25f, -1.5f}) {
              float[] d = new float[m];
              s.expand(packed, 3, m, value, d);
              for (int rot : new int[] {0, 1, m / 2, m - 1}) {
                for (int len : new int[] {m, Math.max(1, m / 3), Math.max(1, m - 1)}) {
                  for (int op : new int[] {SketchKernels.SET, SketchKernels.ADD, SketchKernels.SUBTRACT}) {
                    float[] want = values(len + 7, 5), o1 = want.clone(), o2 = want.clone();
                    s.unbind(d, m, rot, keys, want, 7, len, op);
                    s.unbindTrits(packed, 3, m, value, rot, keys, o1, 7, len, op);
                    v.unbindTrits(packed, 3, m, value, rot, keys, o2, 7, len, op);
                    String at = " m=" + m + " r=" + rot + " len=" + len + " op=" + op + " value=" + value + " bytes=" + packed.length;
                    assertArrayEquals(bits(want), bits(o1), "unbindTrits, scalar" + at);
                    assertArrayEquals(bits(want), bits(o2), "unbindTrits, vector" + at);
                  }
                }
              }
            }
          }
          for (int u = 0; u < m; u++) {
            float want = h[u] > theta ? 0.25f : h[u] < -theta ? -0.25f : 0f;
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(d1[u]), "round trip u=" + u);
          }
        }
      }
    }
  }

  static int[] bits(float[] a) {
    int[] b = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      b[i] = Float.floatToRawIntBits(a[i]);
    }
    return b;
  }

  @Test
  void compressorPathsAgreeBitForBit() {
    for (int n : new int[] {1, 3, 17, 63, 64, 65, 1021, 4099, 20_011}) {
      for (double ratio : new double[] {1.0, 0.1, 0.03, 0.01}) {
        CompressionConfig cfg = sketch(ratio, n);
        GradientCompressor a = new GradientCompressor(cfg, n, Vectorization.scalar());
        GradientCompressor b = new GradientCompressor(cfg, n, Vectorization.vector());
        for (int step = 0; step < 3; step++) {
          float[] g = values(n, 31L * n + step);
          TernaryCompressedGradient ta = a.compress(g), tb = b.compress(g);
          assertArrayEquals(ta.toBytes(), tb.toBytes(), "n=" + n + " ratio=" + ratio + " step=" + step);
          assertArrayEquals(bits(a.residual()), bits(b.residual()), "residual n=" + n);
          assertArrayEquals(bits(a.decompress(ta)), bits(b.decompress(tb)), "decode n=" + n);
        }
      }
    }
  }

  @Test
  void scaleIsTheLeastSquaresMagnitude() {
    // for the decoded direction s (key x trit per coordinate), the scale minimises |e - v s|^2,
    // so v = <e, s> / <s, s> and the residual after one step is orthogonal to s
    int n = 10_007;
    GradientCompressor c = new GradientCompressor(sketch(0.03, 9), n);
    float[] g = GradientCompressorTest.heavyTailed(n, 77);
    TernaryCompressedGradient t = c.compress(g);
    float[] d = c.decompress(t);
    float scale = t.scales()[0];
    double es = 0, ss = 0;
    for (int i = 0; i < n; i++) {
      double s = d[i] / scale;
      es += g[i] * s;
      ss += s * s;
    }
    assertEquals(es / ss, scale, 1e-5 * scale);
    assertTrue(t.sketchDimension() < n && t.nonZeroCount() > 0, t.toString());
  }
}
