package dev.aphelion.tritter.compress;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.random.SplitMix64;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * The count sketch encoding ({@link GradientEncoding#COUNT_SKETCH}) as specified in {@code
 * docs/formats.md}: r rows of c f32 buckets; in row {@code ρ}, block {@code j} of the gradient
 * (coordinates {@code [j c, j c + c)}) is bound with the VSA sketch's rotation and ±1 keys drawn
 * from {@link GradientWireFormat#countSketchRowSeed}, so coordinate {@code i = j c + t} lands in
 * bucket {@code (t + r_j) mod c} with sign {@code key_j(t)}. Every bucket adds its blocks in
 * ascending order (the float order is part of the format). Decoding: per coordinate the median
 * over rows of the signed bucket values, then the k of largest magnitude (ties in index order).
 * The float passes run on {@link SketchKernels}; the rest is shared by both kernel paths.
 */
final class CountSketch {
  static final int HEADER_BYTES = GradientWireFormat.HEADER_BYTES;

  private CountSketch() {}

  /** Blocks of a gradient of n values over c columns. */
  static int blocks(int n, int c) {
    return (int) (((long) n + c - 1) / c);
  }

  /**
   * Adds {@code factor * g} to the residual {@code e} (as {@link CompressionKernels#addScaled}, in
   * the first row's binding pass) and sketches the result into {@code table[ρ][0..c)} (overwritten).
   *
   * @param keyWords at least {@code ceil(c / 64) + 1} words of scratch
   */
  static void sketch(SketchKernels k, float[] e, float[] g, float factor, int n, int rows, int c, long seed, long step,
      float[][] table, long[] keyWords) {
    int blocks = blocks(n, c);
    long[] rowSeeds = new long[rows];
    for (int row = 0; row < rows; row++) {
      Arrays.fill(table[row], 0, c, 0f);
      rowSeeds[row] = GradientWireFormat.countSketchRowSeed(seed, step, row);
    }
    // block by block, all rows: the later rows read the block of e from cache; each bucket still
    // adds its blocks in ascending order
    for (int j = 0; j < blocks; j++) {
      int len = Math.min(c, n - j * c);
      for (int row = 0; row < rows; row++) {
        long z = VsaSketch.blockState(rowSeeds[row], j);
        VsaSketch.keys(z, len, keyWords);
        if (row == 0) {
          k.addScaledBindAdd(table[row], c, VsaSketch.rotation(z, c), e, g, factor, j * c, len, keyWords);
        } else {
          k.bindAdd(table[row], c, VsaSketch.rotation(z, c), e, j * c, len, keyWords);
        }
      }
    }
  }

  /**
   * The int8 code of {@code v} at inverse scale {@code inv}: {@code rint(v * inv)} (one rounded
   * product, ties to even), clamped to [-127, 127].
   */
  static int quantize(float v, float inv) {
    return GradientWireFormat.countSketchQuantize(v, inv);
  }

  /** The largest magnitude of {@code v[0..len)}; throws when it is not finite. */
  static float maxAbs(float[] v, int len, String what) {
    float m = 0f;
    for (int u = 0; u < len; u++) {
      m = Math.max(m, Math.abs(v[u]));
    }
    if (!Float.isFinite(m)) {
      throw new ShapeException(what + " overflowed to " + m
          + " (gradient or residual values near the float range); clip the gradient (CompressionConfig.clipNorm)");
    }
    return m;
  }

  /** {@code amax / 127} and {@code 127 / amax} (both 0 for amax 0). */
  static float scaleOf(float amax) {
    return GradientWireFormat.countSketchScale(amax);
  }

  static float inverseOf(float amax) {
    return GradientWireFormat.countSketchInverse(amax);
  }

  /**
   * A complete table message: per row the f32 scale {@code amax / 127}, then the rows' int8 codes
   * ({@link #quantize} with {@code 127 / amax}).
   */
  static byte[] message(float[][] table, int n, int rows, int c, int topK, long step, long fingerprint) {
    byte[] out = new byte[GradientWireFormat.countSketchMessageBytes(rows, c)];
    ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    int codes = HEADER_BYTES + 4 * rows;
    for (int row = 0; row < rows; row++) {
      float[] h = table[row];
      float amax = maxAbs(h, c, "count sketch row " + row);
      b.putFloat(HEADER_BYTES + 4 * row, scaleOf(amax));
      float inv = inverseOf(amax);
      int base = codes + row * c;
      for (int u = 0; u < c; u++) {
        out[base + u] = (byte) quantize(h[u], inv);
      }
    }
    return GradientWireFormat.sealCountSketch(out, n, step, fingerprint, rows, c, topK);
  }

  /** The dequantized buckets of a table message, {@code code * scale}, into {@code table[ρ][0..c)}. */
  static void readTable(TernaryCompressedGradient g, float[][] table) {
    byte[] m = g.rawBytes();
    ByteBuffer b = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
    int rows = g.sketchRows(), c = g.sketchDimension();
    int codes = HEADER_BYTES + 4 * rows;
    for (int row = 0; row < rows; row++) {
      float[] h = table[row];
      float scale = b.getFloat(HEADER_BYTES + 4 * row);
      int base = codes + row * c;
      for (int u = 0; u < c; u++) {
        h[u] = m[base + u] * scale;
      }
    }
  }

  /**
   * The weighted sum of table messages in f32: {@code acc = 0}, then for each message in list order
   * {@code acc[u] = acc[u] + weights[w] * (code * scale)} (rounded product, product, sum).
   */
  static void sumTables(List<TernaryCompressedGradient> messages, float[] weights, float[][] acc, float[][] scratch) {
    TernaryCompressedGradient first = messages.get(0);
    int rows = first.sketchRows(), c = first.sketchDimension();
    for (int row = 0; row < rows; row++) {
      Arrays.fill(acc[row], 0, c, 0f);
    }
    for (int w = 0; w < messages.size(); w++) {
      readTable(messages.get(w), scratch);
      float weight = weights[w];
      for (int row = 0; row < rows; row++) {
        float[] a = acc[row], x = scratch[row];
        for (int u = 0; u < c; u++) {
          a[u] = a[u] + weight * x[u];
        }
      }
    }
  }

  /** Value j of a values message (int8 kind: {@code code * scale}; summed kind: the f32). */
  static float value(TernaryCompressedGradient g, ByteBuffer b, float scale, int j) {
    return g.isSummedValues() ? b.getFloat(HEADER_BYTES + 4 * j) : g.rawBytes()[HEADER_BYTES + 4 + j] * scale;
  }

  /**
   * The weighted sum of values messages as a summed (f32) values message: {@code acc = 0}, then
   * {@code acc[j] = acc[j] + weights[w] * value_w(j)} in list order.
   */
  static byte[] sumValues(List<TernaryCompressedGradient> messages, float[] weights, float[] acc, long fingerprint) {
    TernaryCompressedGradient first = messages.get(0);
    int k = first.nonZeroCount();
    Arrays.fill(acc, 0, k, 0f);
    for (int w = 0; w < messages.size(); w++) {
      TernaryCompressedGradient g = messages.get(w);
      ByteBuffer b = ByteBuffer.wrap(g.rawBytes()).order(ByteOrder.LITTLE_ENDIAN);
      float scale = g.isSummedValues() ? 0f : b.getFloat(HEADER_BYTES);
      float weight = weights[w];
      for (int j = 0; j < k; j++) {
        acc[j] = acc[j] + weight * value(g, b, scale, j);
      }
    }
    byte[] out = new byte[GradientWireFormat.countSketchSumBytes(k)];
    ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    for (int j = 0; j < k; j++) {
      if (!Float.isFinite(acc[j])) {
        throw new ShapeException("summed count sketch value " + j + " overflowed to " + acc[j] + "; clip the gradients");
      }
      b.putFloat(HEADER_BYTES + 4 * j, acc[j]);
    }
    return GradientWireFormat.sealCountSketch(out, first.dimension(), first.step(), fingerprint, first.sketchRows(),
        first.sketchDimension(), k, GradientWireFormat.COUNT_SKETCH_SUM);
  }

  /**
   * Round 2 of a step: {@code e} at {@code coordinates} as int8 codes with one scale ({@code amax /
   * 127} over those values), and {@code e[i] = e[i] - code * scale} for each (error feedback keeps
   * exactly the quantization error).
   */
  static byte[] values(float[] e, int[] coordinates, TernaryCompressedGradient table, long fingerprint) {
    int k = coordinates.length;
    byte[] out = new byte[GradientWireFormat.countSketchValuesBytes(k)];
    // one gather of the scattered residual entries (cache misses), then dense passes
    float[] v = new float[k];
    float amax = 0f;
    for (int j = 0; j < k; j++) {
      float x = e[coordinates[j]];
      v[j] = x;
      amax = Math.max(amax, Math.abs(x));
    }
    float scale = scaleOf(amax), inv = inverseOf(amax);
    ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putFloat(HEADER_BYTES, scale);
    for (int j = 0; j < k; j++) {
      int q = quantize(v[j], inv);
      out[HEADER_BYTES + 4 + j] = (byte) q;
      e[coordinates[j]] = v[j] - q * scale;
    }
    return GradientWireFormat.sealCountSketch(out, table.dimension(), table.step(), fingerprint, table.sketchRows(),
        table.sketchDimension(), k, GradientWireFormat.COUNT_SKETCH_VALUES);
  }

  /**
   * The indices (ascending) of the k entries of largest magnitude of {@code v[0..n)}; of the
   * entries equal to the k-th magnitude the first ones in index order. The reference of {@link
   * TopKSelector}: a radix selection over all n values, then two passes.
   */
  static int[] topKReference(float[] v, int n, int k) {
    k = Math.min(k, n);
    int tau = Float.floatToRawIntBits(MagnitudeSelection.kthLargest(v, n, k));
    int greater = 0;
    for (int i = 0; i < n; i++) {
      greater += (Float.floatToRawIntBits(v[i]) & 0x7FFFFFFF) > tau ? 1 : 0;
    }
    int ties = k - greater;
    int[] out = new int[k];
    int m = 0;
    for (int i = 0; i < n; i++) {
      int a = Float.floatToRawIntBits(v[i]) & 0x7FFFFFFF;
      if (a > tau || (a == tau && ties-- > 0)) {
        out[m++] = i;
      }
    }
    return out;
  }

  /**
   * Decodes a table: {@code out[i]} is the median over rows of the signed bucket of {@code i}
   * when its magnitude is among the k largest, else 0.
   *
   * @param tiles at least {@code rows * c} floats of scratch
   * @param keyWords at least {@code ceil(c / 64) + 1} words of scratch
   */
  static void decode(SketchKernels k, TopKSelector selector, float[][] table, int n, int rows, int c, int topK, long seed,
      long step, float[] out, float[] tiles, long[] keyWords) {
    estimate(k, table, n, rows, c, seed, step, out, tiles, keyWords);
    selector.keepTopK(out, n, topK, selectionSeed(seed, step));
  }

  /** The seed of the selection's sample for a step (it changes only the speed, not the result). */
  static long selectionSeed(long seed, long step) {
    return seed ^ SplitMix64.mix64(step + 0x5E1EC7L);
  }

  /** {@code out[i]}: the median over rows of the signed bucket of coordinate {@code i}. */
  static void estimate(SketchKernels k, float[][] table, int n, int rows, int c, long seed, long step,
      float[] out, float[] tiles, long[] keyWords) {
    int blocks = blocks(n, c);
    long[] rowSeeds = new long[rows];
    for (int row = 0; row < rows; row++) {
      rowSeeds[row] = GradientWireFormat.countSketchRowSeed(seed, step, row);
    }
    if (rows == 3) {
      // one pass per block, no tiles
      long[][] keys = new long[3][keyWords.length];
      int[] r = new int[3];
      for (int j = 0; j < blocks; j++) {
        int len = Math.min(c, n - j * c);
        for (int row = 0; row < 3; row++) {
          long z = VsaSketch.blockState(rowSeeds[row], j);
          VsaSketch.keys(z, len, keys[row]);
          r[row] = VsaSketch.rotation(z, c);
        }
        k.median3Unbind(table[0], table[1], table[2], c, r[0], r[1], r[2], keys[0], keys[1], keys[2], out, j * c, len);
      }
      return;
    }
    for (int j = 0; j < blocks; j++) {
      int len = Math.min(c, n - j * c);
      for (int row = 0; row < rows; row++) {
        long z = VsaSketch.blockState(rowSeeds[row], j);
        VsaSketch.keys(z, len, keyWords);
        if (rows == 1) {
          k.unbind(table[0], c, VsaSketch.rotation(z, c), keyWords, out, j * c, len, SketchKernels.SET);
        } else {
          k.unbind(table[row], c, VsaSketch.rotation(z, c), keyWords, tiles, row * c, len, SketchKernels.SET);
        }
      }
      if (rows > 1) {
        k.median(tiles, rows, c, len, out, j * c);
      }
    }
  }

  /**
   * Zeroes all but the k entries of largest magnitude of {@code v[0..n)}; of the entries equal to
   * the k-th magnitude the first ones in index order are kept.
   */
  static void keepTopK(float[] v, int n, int k) {
    if (k >= n) {
      return;
    }
    int tau = Float.floatToRawIntBits(MagnitudeSelection.kthLargest(v, n, k));
    int greater = 0;
    for (int i = 0; i < n; i++) {
      greater += (Float.floatToRawIntBits(v[i]) & 0x7FFFFFFF) > tau ? 1 : 0;
    }
    int ties = k - greater;
    for (int i = 0; i < n; i++) {
      int a = Float.floatToRawIntBits(v[i]) & 0x7FFFFFFF;
      if (a > tau) {
        continue;
      }
      if (a == tau && ties > 0) {
        ties--;
        continue;
      }
      v[i] = 0f;
    }
  }

  /**
   * The scalar reference of {@link SketchKernels#median}: the odd-even transposition network on
   * {@code rows} values ({@code rows} rounds; round q compares the pairs {@code (a, a + 1)} with
   * {@code a % 2 == q % 2} and puts {@code Math.min} first, {@code Math.max} second), then the middle
   * element.
   */
  static float median(float[] v, int rows) {
    for (int q = 0; q < rows; q++) {
      for (int a = q & 1; a + 1 < rows; a += 2) {
        float lo = Math.min(v[a], v[a + 1]);
        float hi = Math.max(v[a], v[a + 1]);
        v[a] = lo;
        v[a + 1] = hi;
      }
    }
    return v[rows >>> 1];
  }
}
