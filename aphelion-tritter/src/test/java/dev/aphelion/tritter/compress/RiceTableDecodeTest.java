package dev.aphelion.tritter.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.SerializationException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The heavy-hitter decoder reads large messages two codes per table lookup; this checks it bit for
 * bit against a plain decode that reads one Rice code at a time, on messages of many Rice
 * parameters and value bits, and on forged payloads (bytes flipped, checksum recomputed), where
 * both must reject the message or both decode it to the same values.
 */
class RiceTableDecodeTest {

  /** One code at a time through {@link BitStream.Reader#readRice}: the format, plainly. */
  static float[] reference(byte[] wire, float[] start, float weight) {
    ByteBuffer h = ByteBuffer.wrap(wire).order(ByteOrder.LITTLE_ENDIAN);
    int vb = wire[GradientWireFormat.VALUE_BITS_OFFSET];
    int rp = wire[GradientWireFormat.RICE_PARAMETER_OFFSET];
    int n = h.getInt(8);
    int count = h.getInt(GradientWireFormat.ENTRY_COUNT_OFFSET);
    int payload = h.getInt(GradientWireFormat.PAYLOAD_BYTES_OFFSET);
    int groups = 1 << (vb - 1);
    int off = GradientWireFormat.HEADER_BYTES + 4 * groups;
    float[] out = start.clone();
    BitStream.Reader r = new BitStream.Reader(wire, off, off + payload);
    long index = -1;
    long maxQ = ((long) n >>> rp) + 1;
    for (int e = 0; e < count; e++) {
      index += r.readRice(rp, vb, maxQ) + 1;
      if (index >= n) {
        throw new SerializationException("entry " + e + " beyond the dimension");
      }
      int extra = (int) r.extra();
      float s = weight * h.getFloat(GradientWireFormat.HEADER_BYTES + 4 * (extra >>> 1));
      out[(int) index] += (extra & 1) != 0 ? -s : s;
    }
    if (r.remainingBits() >= 8 || r.peekRemaining() != 0) {
      throw new SerializationException("trailing bits");
    }
    return out;
  }

  static float[] gradient(int n, long seed, double tail) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] g = new float[n];
    for (int i = 0; i < n; i++) {
      g[i] = (float) (r.nextGaussian() * Math.exp(tail * (r.nextDouble() * 2 - 1)) * 1e-3);
    }
    return g;
  }

  @ParameterizedTest
  @CsvSource({"200003,0.3,1", "200003,0.1,1", "200003,0.03,3", "400009,0.01,2", "1000003,0.003,1", "65537,0.2,6",
      "100000,0.05,0"})
  void tableDecodeMatchesOneCodeAtATime(int n, double ratio, double tail) {
    GradientCompressor c = new GradientCompressor(CompressionConfig.builder().compressionRatio(ratio).seed(9).build(), n);
    float[] start = gradient(n, 77, 0);
    for (int step = 0; step < 3; step++) {
      TernaryCompressedGradient t = c.compress(gradient(n, step, tail));
      assertTrue(t.nonZeroCount() >= 8192, "the table path needs a large message, got " + t.nonZeroCount());
      byte[] wire = t.toBytes();
      float[] fresh = new float[n];
      t.decodeInto(fresh, 1f, false);
      assertArrayEquals(reference(wire, new float[n], 1f), fresh, "step " + step + ", rice " + wire[7] + ", bits " + wire[6]);
      float[] added = start.clone();
      t.decodeInto(added, -0.25f, true);
      assertArrayEquals(reference(wire, start, -0.25f), added);
    }
  }

  @ParameterizedTest
  @CsvSource({"200003,0.1", "300007,0.02"})
  void forgedPayloadsFailOrDecodeAlike(int n, double ratio) {
    GradientCompressor c = new GradientCompressor(CompressionConfig.builder().compressionRatio(ratio).seed(4).build(), n);
    byte[] wire = c.compress(gradient(n, 5, 1)).toBytes();
    int groups = 1 << (wire[GradientWireFormat.VALUE_BITS_OFFSET] - 1);
    int off = GradientWireFormat.HEADER_BYTES + 4 * groups;
    SplittableRandom r = new SplittableRandom(8);
    int bothFailed = 0;
    for (int trial = 0; trial < 60; trial++) {
      byte[] b = wire.clone();
      for (int f = 0, flips = 1 + r.nextInt(4); f < flips; f++) {
        int at = off + r.nextInt(b.length - off - GradientWireFormat.CRC_BYTES);
        b[at] ^= (byte) (1 << r.nextInt(8));
      }
      CompressedGradientFuzzTest.fixChecksum(b);
      float[] expected = null;
      String refError = null;
      try {
        expected = reference(b, new float[n], 1f);
      } catch (SerializationException e) {
        refError = e.getMessage();
      }
      float[] actual = new float[n];
      try {
        TernaryCompressedGradient.fromBytes(b).decodeInto(actual, 1f, false);
        assertTrue(refError == null, "trial " + trial + ": the reference rejects it (" + refError + "), the decoder does not");
        assertArrayEquals(expected, actual, "trial " + trial);
      } catch (SerializationException e) {
        assertTrue(refError != null, "trial " + trial + ": the decoder rejects it (" + e.getMessage() + "), the reference does not");
        bothFailed++;
      }
    }
    assertTrue(bothFailed > 0 && bothFailed < 60, "flips should both break and keep messages: " + bothFailed + " of 60 failed");
  }
}
