package dev.aphelion.tritter.vsa;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.kernel.Vectorization;
import dev.aphelion.tritter.random.SplitMix64;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class VsaOpsTest {
  private static final int[] SIZES = {1, 3, 17, 63, 64, 65, 127, 128, 129, 255, 511, 513, 1021, 4099};
  private final VsaOps scalar = VsaOps.with(Vectorization.scalar());
  private final VsaOps vector = VsaOps.with(Vectorization.vector());

  @Test
  void bindTruthTableOfSeedSemantics() {
    // rows a = N, Z, P; columns b = N, Z, P; expected (a - b) mod 3, balanced
    int[][] expected = {{0, -1, 1}, {1, 0, -1}, {-1, 1, 0}};
    int[] a = new int[9], b = new int[9], c = new int[9];
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 3; j++) {
        a[i * 3 + j] = i - 1;
        b[i * 3 + j] = j - 1;
        c[i * 3 + j] = expected[i][j];
      }
    }
    for (VsaOps ops : List.of(scalar, vector)) {
      TritVector bound = ops.bind(TritVector.of(a), TritVector.of(b));
      assertArrayEquals(c, bound.toArray());
      assertArrayEquals(a, ops.unbind(bound, TritVector.of(b)).toArray(), "exact inverse on the truth table");
    }
  }

  @Test
  void bundleExamplesOfSeedSemantics() {
    for (VsaOps ops : List.of(scalar, vector)) {
      assertArrayEquals(new int[] {1}, ops.bundle(TritVector.of(1), TritVector.of(1), TritVector.of(-1)).toArray());
      assertArrayEquals(new int[] {0}, ops.bundle(TritVector.of(1), TritVector.of(-1), TritVector.of(0)).toArray());
      assertArrayEquals(new int[] {-1}, ops.bundle(TritVector.of(-1), TritVector.of(-1), TritVector.of(-1)).toArray());
      TritVector r = ops.bundle(TritVector.of(1, 1, 1, 0, 0), TritVector.of(1, 1, -1, 1, -1), TritVector.of(1, -1, -1, -1, 0));
      assertArrayEquals(new int[] {1, 1, -1, 0, -1}, r.toArray());
    }
  }

  @Test
  void dotAndHammingOfSeedSemantics() {
    TritVector a = TritVector.of(1, 0, -1, 1), b = TritVector.of(1, -1, -1, 0);
    for (VsaOps ops : List.of(scalar, vector)) {
      assertEquals(2, ops.dot(a, b));
      assertEquals(2, ops.hamming(a, b));
      assertEquals(2 / (Math.sqrt(3) * Math.sqrt(3)), ops.cosine(a, b), 1e-12);
      assertEquals(0.0, ops.cosine(a, TritVector.zeros(4)));
      assertEquals(1.0, ops.cosine(a, a), 1e-12);
    }
  }

  @Test
  void unbindInvertsBindForEveryKeyOnRandomVectors() {
    for (int d : SIZES) {
      TritVector a = TritVector.random(d, 11 + d), key = TritVector.random(d, 99 + d);
      for (VsaOps ops : List.of(scalar, vector)) {
        TritVector c = ops.bind(a, key);
        assertEquals(a, ops.unbind(c, key), "d=" + d);
        assertArrayEquals(negate(ops.bind(key, a).toArray()), c.toArray(), "bind(a,b) = -bind(b,a), d=" + d);
      }
    }
  }

  @Test
  void scalarAndVectorAgreeBitForBitOnOddSizes() {
    SplittableRandom r = new SplittableRandom(5);
    for (int d : SIZES) {
      TritVector a = TritVector.random(d, r.nextLong()), b = TritVector.random(d, r.nextLong());
      assertEquals(scalar.bind(a, b), vector.bind(a, b), "bind d=" + d);
      assertEquals(scalar.unbind(a, b), vector.unbind(a, b), "unbind d=" + d);
      assertEquals(scalar.dot(a, b), vector.dot(a, b), "dot d=" + d);
      assertEquals(scalar.hamming(a, b), vector.hamming(a, b), "hamming d=" + d);
      assertEquals(scalar.nonZeroCount(a), vector.nonZeroCount(a), "nnz d=" + d);
      assertEquals(naiveDot(a, b), scalar.dot(a, b), "dot reference d=" + d);
      for (int k : new int[] {1, 2, 3, 4, 7, 8, 16}) {
        List<TritVector> vs = new ArrayList<>();
        for (int i = 0; i < k; i++) {
          vs.add(i % 3 == 0 ? TritVector.randomBipolar(d, r.nextLong()) : TritVector.random(d, r.nextLong()));
        }
        TritVector s = scalar.bundle(vs);
        assertEquals(s, vector.bundle(vs), "bundle d=" + d + " k=" + k);
        assertArrayEquals(naiveBundle(vs), s.toArray(), "bundle reference d=" + d + " k=" + k);
      }
    }
  }

  @Test
  void edgeValuesAllPlusAllMinusAllZero() {
    for (int d : SIZES) {
      int[] plus = new int[d], minus = new int[d];
      java.util.Arrays.fill(plus, 1);
      java.util.Arrays.fill(minus, -1);
      TritVector p = TritVector.of(plus), m = TritVector.of(minus), z = TritVector.zeros(d);
      for (VsaOps ops : List.of(scalar, vector)) {
        assertEquals(-d, ops.dot(p, m));
        assertEquals(d, ops.hamming(p, z));
        assertEquals(z, ops.bundle(p, m));
        assertEquals(p, ops.bundle(p, p, m));
        assertEquals(p, ops.bind(p, z), "binding with the zero key is the identity");
        assertEquals(z, ops.bind(p, p));
        assertEquals(m, ops.bind(z, p));
        assertEquals(p, ops.bind(m, p), "(-1 - 1) mod 3 = +1");
      }
    }
  }

  @Test
  void permuteIsACyclicShift() {
    for (int d : SIZES) {
      TritVector v = TritVector.random(d, d);
      int[] a = v.toArray();
      for (long s : new long[] {0, 1, 5, 63, 64, 65, d - 1, d, -1, -70, 1L << 40}) {
        int[] shifted = scalar.permute(v, s).toArray();
        for (int i = 0; i < d; i++) {
          assertEquals(a[i], shifted[(int) Math.floorMod(i + s, (long) d)], "d=" + d + " s=" + s + " i=" + i);
        }
        assertEquals(v, scalar.permute(scalar.permute(v, s), -s));
      }
    }
  }

  @Test
  void randomVectorsAreFixedBySpecification() {
    SplittableRandom ref = new SplittableRandom(42);
    SplitMix64 ours = new SplitMix64(42);
    for (int i = 0; i < 100; i++) {
      assertEquals(ref.nextLong(), ours.nextLong(), "SplitMix64 equals the JDK's specified SplittableRandom");
    }
    // pinned values (computed independently with a Python replica of the definition)
    assertEquals("TritVector[20] 0-+00-0--0-++++0+-0+", TritVector.random(20, 7).toString());
    TritVector bip = TritVector.randomBipolar(70, 7);
    assertEquals(70, scalar.nonZeroCount(bip));
    assertEquals(new SplitMix64(7).nextLong(), bip.plusPlane()[0]);
    assertEquals(TritVector.random(1000, 3), TritVector.random(1000, 3));
    assertNotEquals(TritVector.random(1000, 3), TritVector.random(1000, 4));
    // near-orthogonality of random hypervectors
    assertTrue(Math.abs(scalar.cosine(TritVector.random(10000, 1), TritVector.random(10000, 2))) < 0.05);
  }

  @Test
  void badInputIsRejectedClearly() {
    ShapeException e = assertThrows(ShapeException.class, () -> scalar.bind(TritVector.zeros(3), TritVector.zeros(4)));
    assertTrue(e.getMessage().contains("3 vs 4"));
    assertThrows(ShapeException.class, () -> TritVector.of(0, 2));
    assertThrows(ShapeException.class, () -> TritVector.zeros(0));
    assertThrows(ShapeException.class, () -> scalar.bundle(List.of()));
    assertThrows(ShapeException.class, () -> TritVector.ofPlanes(3, new long[] {1}, new long[] {1}));
    assertThrows(ShapeException.class, () -> TritVector.ofPlanes(3, new long[] {8}, new long[] {0}));
    assertEquals(TritVector.of(1, -1, 0), TritVector.ofPlanes(3, new long[] {1}, new long[] {2}));
  }

  private static int[] negate(int[] a) {
    int[] r = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      r[i] = -a[i];
    }
    return r;
  }

  private static long naiveDot(TritVector a, TritVector b) {
    long s = 0;
    for (int i = 0; i < a.dimension(); i++) {
      s += a.get(i) * b.get(i);
    }
    return s;
  }

  private static int[] naiveBundle(List<TritVector> vs) {
    int d = vs.get(0).dimension();
    int[] r = new int[d];
    for (int i = 0; i < d; i++) {
      int s = 0;
      for (TritVector v : vs) {
        s += v.get(i);
      }
      r[i] = Integer.signum(s);
    }
    return r;
  }
}
