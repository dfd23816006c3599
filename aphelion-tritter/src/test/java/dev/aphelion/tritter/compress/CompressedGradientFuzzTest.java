package dev.aphelion.tritter.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.fuzz.Fuzz;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Compressed-gradient messages under mutation. Plain corruption must be caught (the checksum);
 * corruption with a recomputed checksum (a forged or buggy sender) must be rejected by the field
 * checks or decode to finite values of the right size; nothing else may escape.
 */
class CompressedGradientFuzzTest {
  static final int N = 3001;

  static List<byte[]> seeds() {
    List<byte[]> seeds = new ArrayList<>();
    SplittableRandom r = new SplittableRandom(16);
    for (GradientEncoding enc : GradientEncoding.values()) {
      for (double ratio : new double[] {0.01, 0.05, 0.3}) {
        GradientCompressor c = new GradientCompressor(CompressionConfig.builder().encoding(enc).compressionRatio(ratio).seed(7).build(), N);
        for (int step = 0; step < 2; step++) {
          float[] g = new float[N];
          for (int i = 0; i < N; i++) {
            g[i] = (float) (r.nextGaussian() * (i % 97 == 0 ? 100 : 1));
          }
          TernaryCompressedGradient t = c.compress(g);
          seeds.add(t.toBytes());
          if (enc.isLinear()) {
            // round 2 of the count sketch, and the sum of two values messages
            TernaryCompressedGradient v = c.values(t, c.select(t));
            seeds.add(v.toBytes());
            seeds.add(c.combine(List.of(v, v), new float[] {0.5f, 0.25f}).toBytes());
          }
        }
      }
    }
    return seeds;
  }

  static void fixChecksum(byte[] b) {
    if (b.length >= GradientWireFormat.CRC_BYTES) {
      ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length - GradientWireFormat.CRC_BYTES, GradientWireFormat.checksum(b));
    }
  }

  @Test
  void corruptMessagesAreRejected() {
    List<byte[]> seeds = seeds();
    Fuzz.run("compressed-gradient", seeds, n -> 8L * 1024 * 1024 + 64L * n, input -> {
      TernaryCompressedGradient g = TernaryCompressedGradient.fromBytes(input);
      // Accepted without a recomputed checksum: only an unchanged seed may get here.
      assertTrue(seeds.stream().anyMatch(s -> Arrays.equals(s, input)), "a corrupted message was accepted: " + g);
    });
  }

  @Test
  void forgedMessagesAreRejectedOrDecodeToFiniteValues() {
    List<byte[]> seeds = seeds();
    GradientCompressor[] receivers = new GradientCompressor[GradientEncoding.values().length];
    for (GradientEncoding enc : GradientEncoding.values()) {
      receivers[enc.ordinal()] = new GradientCompressor(CompressionConfig.builder().encoding(enc).seed(7).build(), N);
    }
    SplittableRandom r = new SplittableRandom(Fuzz.seed());
    List<byte[]> forged = new ArrayList<>(seeds);
    for (int i = 0; i < 2000; i++) {
      byte[] m = Fuzz.mutate(seeds, r);
      fixChecksum(m);
      forged.add(m);
    }
    Fuzz.Stats s = Fuzz.run("compressed-gradient-forged", forged, n -> 8L * 1024 * 1024 + 64L * n + 16L * N, input -> {
      byte[] wire = input.clone();
      fixChecksum(wire);
      TernaryCompressedGradient g = TernaryCompressedGradient.fromBytes(wire);
      assertEquals(g, TernaryCompressedGradient.fromBytes(g.toBytes()));
      GradientCompressor rx = receivers[g.encoding().ordinal()];
      float[] out = new float[N];
      if (g.isSketchValues()) {
        int[] coordinates = new int[g.nonZeroCount()];
        Arrays.setAll(coordinates, j -> j);
        rx.scatter(rx.read(wire), coordinates, out);
        for (int i = 0; i < N; i++) {
          assertTrue(Float.isFinite(out[i]), "scattered value " + i + " is " + out[i]);
        }
        return;
      }
      out = rx.decompress(rx.read(wire));
      assertEquals(N, out.length);
      for (int i = 0; i < N; i++) {
        assertTrue(Float.isFinite(out[i]), "decoded value " + i + " is " + out[i]);
      }
      assertArrayEquals(out, rx.aggregate(List.of(g)));
    });
    assertTrue(s.accepted() > 0 && s.rejected() > 0, s.toString());
  }
}
