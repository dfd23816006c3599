package dev.aphelion.tritter.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.kernel.Vectorization;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Int8ActivationsTest {

  @Test
  void seedVector() {
    for (Vectorization v : new Vectorization[] {Vectorization.scalar(), Vectorization.vector()}) {
      Int8Activations a = Int8Activations.quantize(v, new float[] {1f, -2f, 0.5f, 0f}, 1, 4);
      assertEquals(0.015748031f, a.scale(0), v.toString());
      assertArrayEquals(new byte[] {64, -127, 32, 0}, a.values(), v.toString());
    }
  }

  @Test
  void allZeroTokenHasScaleOne() {
    Int8Activations a = Int8Activations.quantize(Vectorization.vector(), new float[40], 2, 20);
    assertArrayEquals(new float[] {1f, 1f}, a.scales());
    assertArrayEquals(new byte[40], a.values());
  }

  @Test
  void roundingIsHalfToEvenWithoutHalfUlpTrap() {
    // ties go to the even code (torch.round); 0.49999997f + 0.5f rounds to 1.0f in float, the rule must still give 0
    float max = 127f;
    float[] x = {max, 0.49999997f, -0.49999997f, 0.5f, -0.5f, 1.5f, -2.5f, 126.5f, 125.5f, 0.50000006f};
    for (Vectorization v : new Vectorization[] {Vectorization.scalar(), Vectorization.vector()}) {
      Int8Activations a = Int8Activations.quantize(v, x, 1, x.length);
      assertEquals(1f, a.scale(0));
      assertArrayEquals(new byte[] {127, 0, 0, 0, 0, 2, -2, 126, 126, 1}, a.values(), v.toString());
    }
  }

  @Test
  void codesAreRintOfXTimes127OverMax() {
    // transformers' BitNet: (x * (127 / max)).round().clamp(-128, 127), in f32
    Random rnd = new Random(5);
    for (int cols : new int[] {1, 7, 31, 33, 255, 2561}) {
      float[] x = new float[cols];
      for (int i = 0; i < cols; i++) {
        x[i] = i % 3 == 0 ? (rnd.nextInt(509) - 254) / 2f : (float) rnd.nextGaussian() * 40f; // many exact .5 ties
      }
      x[0] = 127f; // max 127 keeps the ties ties
      for (Vectorization v : new Vectorization[] {Vectorization.scalar(), Vectorization.vector()}) {
        Int8Activations a = Int8Activations.quantize(v, x, 1, cols);
        float max = 0f;
        for (float f : x) {
          max = Math.max(max, Math.abs(f));
        }
        float inv = 127f / max;
        byte[] got = a.values();
        for (int i = 0; i < cols; i++) {
          assertEquals((int) Math.max(-127, Math.min(127, Math.rint(x[i] * inv))), got[i], v + " cols " + cols + " index " + i);
        }
      }
    }
  }

  @Test
  void scalarAndVectorAgreeExactly() {
    Random rnd = new Random(11);
    for (int cols : new int[] {1, 3, 17, 63, 64, 65, 1021, 4099}) {
      for (int batch : new int[] {1, 3}) {
        float[] x = new float[batch * cols];
        for (int i = 0; i < x.length; i++) {
          x[i] = switch (i % 5) {
            case 0 -> (float) rnd.nextGaussian() * 1e4f;
            case 1 -> (rnd.nextInt(255) - 127) / 127f; // exact grid points, ties after scaling
            default -> (float) rnd.nextGaussian();
          };
        }
        Int8Activations s = Int8Activations.quantize(Vectorization.scalar(), x, batch, cols);
        Int8Activations v = Int8Activations.quantize(Vectorization.vector(), x, batch, cols);
        assertArrayEquals(s.values(), v.values(), "cols " + cols);
        assertArrayEquals(s.scales(), v.scales(), "cols " + cols);
        for (byte b : v.values()) {
          assertTrue(b >= -127);
        }
        // |x - q*scale| <= scale/2 (plus float rounding)
        float[] d = v.dequantize();
        for (int i = 0; i < x.length; i++) {
          assertTrue(Math.abs(x[i] - d[i]) <= v.scale(i / cols) * 0.5001f, "index " + i);
        }
      }
    }
  }

  @Test
  void nonFiniteIsNamed() {
    for (Vectorization v : new Vectorization[] {Vectorization.scalar(), Vectorization.vector()}) {
      float[] x = new float[70];
      x[67] = Float.POSITIVE_INFINITY;
      ShapeException e = assertThrows(ShapeException.class, () -> Int8Activations.quantize(v, x, 2, 35));
      assertTrue(e.getMessage().contains("index 67") && e.getMessage().contains("token 1"), e.getMessage());
      x[67] = 0f;
      x[3] = Float.NaN;
      ShapeException n = assertThrows(ShapeException.class, () -> Int8Activations.quantize(v, x, 2, 35));
      assertTrue(n.getMessage().contains("index 3"), n.getMessage());
    }
  }

  @Test
  void ofValidates() {
    assertThrows(ShapeException.class, () -> Int8Activations.of(new byte[] {-128}, new float[] {1f}, 1, 1));
    assertThrows(ShapeException.class, () -> Int8Activations.of(new byte[] {1}, new float[] {0f}, 1, 1));
    assertThrows(ShapeException.class, () -> Int8Activations.of(new byte[] {1, 2}, new float[] {1f}, 1, 1));
    Int8Activations a = Int8Activations.of(new byte[] {1, -2}, new float[] {0.5f}, 1, 2);
    assertEquals(-2, a.value(0, 1));
    assertEquals(2, a.segment().byteSize());
    assertTrue(a.segment().isReadOnly());
  }
}
