package dev.aphelion.tritter.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.fuzz.Fuzz;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Safetensors files under mutation: each either opens, with every tensor readable and its floats
 * equal to its bytes, or is a {@code SerializationException}; nothing else escapes, and reading
 * never allocates more than the file's size allows.
 */
class SafeTensorsFuzzTest {

  @TempDir Path dir;

  List<byte[]> seeds() throws Exception {
    List<byte[]> seeds = new ArrayList<>();
    float[] v = {1f, -2.5f, 3e38f, Float.MIN_VALUE, 0f, -0f, 1e-3f, 42f};
    SafeTensorsWriter a = new SafeTensorsWriter()
        .addF32("model.embed_tokens.weight", new long[] {2, 4}, v)
        .addFloats("h", DType.F16, new long[] {8}, v)
        .addFloats("b", DType.BF16, new long[] {2, 2, 2}, v)
        .add("q", DType.F8_E4M3, new long[] {3}, new byte[] {0x38, 0x7F, (byte) 0x80})
        .add("packed", DType.U8, new long[] {5}, new byte[] {1, 2, 3, 4, 5})
        .add("empty", DType.I64, new long[] {0, 3}, new byte[0])
        .metadata("aphelion.decoder_config", "{\"vocabSize\":37}")
        .metadata("format", "pt");
    SafeTensorsWriter b = new SafeTensorsWriter().addF32("\u00e9\ud83d\ude00", new long[] {}, new float[] {7f});
    for (SafeTensorsWriter w : new SafeTensorsWriter[] {a, b, new SafeTensorsWriter()}) {
      Path f = dir.resolve("seed.safetensors");
      w.write(f);
      seeds.add(Files.readAllBytes(f));
    }
    return seeds;
  }

  @Test
  void filesOpenConsistentlyOrAreRejected() throws Exception {
    Path f = dir.resolve("case.safetensors");
    Fuzz.Stats s = Fuzz.run("safetensors", seeds(), n -> 16L * 1024 * 1024 + 256L * n, input -> {
      Files.write(f, input);
      try (SafeTensorsFile st = SafeTensorsFile.open(f)) {
        long total = 0;
        for (String name : st.names()) {
          TensorInfo t = st.info(name);
          byte[] raw = st.bytes(name);
          assertEquals(t.byteLength(), raw.length);
          total += raw.length;
          if (t.dtype() == DType.F32) {
            float[] x = st.floats(name);
            ByteBuffer bb = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
            for (float value : x) {
              assertEquals(Float.floatToRawIntBits(bb.getFloat()), Float.floatToRawIntBits(value));
            }
          } else if (t.dtype() == DType.F16 || t.dtype() == DType.BF16 || t.dtype() == DType.F8_E4M3 || t.dtype() == DType.F8_E5M2) {
            assertEquals(t.elementCount(), st.floats(name).length);
          }
        }
        assertTrue(total <= input.length);
        assertArrayEquals(st.names().toArray(), st.names().stream().distinct().toArray());
      }
    });
    assertTrue(s.accepted() > 0 && s.rejected() > 0, s.toString());
  }

  /** The header parser alone, fast: text-level mutations of JSON headers. */
  @Test
  void headersParseOrAreRejected() throws Exception {
    List<byte[]> headers = new ArrayList<>();
    List<Long> dataLengths = new ArrayList<>();
    for (byte[] file : seeds()) {
      long len = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
      headers.add(java.util.Arrays.copyOfRange(file, 8, 8 + (int) len));
      dataLengths.add(file.length - 8 - len);
    }
    Path p = Path.of("fuzz.safetensors");
    Fuzz.run("safetensors-header", headers, n -> 16L * 1024 * 1024 + 256L * n, input -> {
      if (input.length == 0) {
        throw new SerializationException("empty header"); // open() refuses these before parsing
      }
      // The data length is not in the header: try each seed's, so that intact headers parse.
      SerializationException last = null;
      for (long dataLen : dataLengths) {
        try {
          SafeTensorsFile.parseHeader(p, input, dataLen);
          return;
        } catch (SerializationException e) {
          last = e;
        }
      }
      throw last;
    });
  }
}
