package dev.aphelion.tritter.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.aphelion.tritter.kernel.Vectorization;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * Pins the exact wire bytes and error-feedback residual of heavy-hitter messages, on both kernel
 * paths, so encoder optimisations can prove they are byte-identical. The digests without clipping
 * were recorded with the bit-at-a-time encoder before the word-at-a-time rewrite; those with
 * clipping since {@code sumOfSquares} got its specified, path-independent summation order.
 */
class HeavyHitterGoldenTest {

  /** SHA-256 over every message's bytes and then the final residual's f32 bits, per case. */
  static String digest(Vectorization path, int n, double ratio, boolean clip) throws Exception {
    CompressionConfig.Builder b = CompressionConfig.builder().compressionRatio(ratio).seed(7);
    if (clip) {
      b.clipNorm(5.0);
    }
    GradientCompressor c = new GradientCompressor(b.build(), n, path);
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    for (int step = 0; step < 3; step++) {
      float[] g = GradientCompressorTest.heavyTailed(n, 100 + step);
      if (n > 10) {
        g[3] = 0f; // exact zeros and ties exercise the tie-breaking at the threshold
        g[5] = g[7];
        g[9] = -g[7];
      }
      TernaryCompressedGradient t = c.compress(g);
      md.update(t.toBytes());
      float[] back = c.decompress(c.read(t.toBytes()));
      ByteBuffer bb = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
      bb.asFloatBuffer().put(back);
      md.update(bb.array());
    }
    ByteBuffer rb = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    rb.asFloatBuffer().put(c.residual());
    md.update(rb.array());
    return HexFormat.of().formatHex(md.digest()).substring(0, 32);
  }

  static final Object[][] CASES = {
    {1, 0.5, false, "758c5ad1cd617594c94a9df9e346ba47", "758c5ad1cd617594c94a9df9e346ba47"},
    {17, 1.0, false, "b772ee2e1eaecadd99b7064e370af40c", "b772ee2e1eaecadd99b7064e370af40c"},
    {1021, 0.1, false, "1d320fc5df732e4aa19bada583a714f7", "1d320fc5df732e4aa19bada583a714f7"},
    {1021, 0.01, true, "e99f61bf99a2fb2a7a9f35b5d8aee28e", "e99f61bf99a2fb2a7a9f35b5d8aee28e"},
    {70_001, 0.1, false, "7a1376d55605c28c17f2ceab3c86fcde", "7a1376d55605c28c17f2ceab3c86fcde"},
    {70_001, 0.03, false, "a31261ad52ad1872e8f0dd4951a1a3e9", "a31261ad52ad1872e8f0dd4951a1a3e9"},
    {70_001, 0.01, true, "74ceb14feae00f40190ca4eb758851aa", "74ceb14feae00f40190ca4eb758851aa"},
    {70_001, 1.0, false, "e641857b93544a7d2809ca13e0fea66a", "e641857b93544a7d2809ca13e0fea66a"},
    {300_000, 0.1, false, "2ce11177ed0d9f864e70bc56dfeb3cdc", "2ce11177ed0d9f864e70bc56dfeb3cdc"},
    {300_000, 0.01, false, "e7741cb2ca268e702151061d52dc1822", "e7741cb2ca268e702151061d52dc1822"},
  };

  @Test
  void heavyHitterBytesAndResidualArePinned() throws Exception {
    StringBuilder all = new StringBuilder();
    for (Object[] c : CASES) {
      int n = (Integer) c[0];
      double ratio = (Double) c[1];
      boolean clip = (Boolean) c[2];
      String scalar = digest(Vectorization.scalar(), n, ratio, clip);
      String vector = digest(Vectorization.vector(), n, ratio, clip);
      all.append(n).append(' ').append(ratio).append(' ').append(scalar).append(' ').append(vector).append('\n');
    }
    StringBuilder expected = new StringBuilder();
    for (Object[] c : CASES) {
      expected.append(c[0]).append(' ').append(c[1]).append(' ').append(c[3]).append(' ').append(c[4]).append('\n');
    }
    assertEquals(expected.toString(), all.toString(), "golden digests (n ratio sha256-prefix)");
  }
}
