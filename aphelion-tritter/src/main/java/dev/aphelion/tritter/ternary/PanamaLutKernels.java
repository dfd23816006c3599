package dev.aphelion.tritter.ternary;

import dev.aphelion.tritter.kernel.RowPool;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The activation-parallel table kernel for int8 batches (the Vec-LUT / bitnet.cpp "activation
 * parallel" form) on the {@link LutLayout} arrangement: the lanes of a vector are tokens, not rows.
 *
 * <p>For a tile of {@code T} tokens (16 shorts on 256-bit vectors, 32 on 512-bit) and a chunk of
 * {@value LutLayout#CHUNK} quads, a table holds for every quad and every one of the 81 ternary
 * patterns of its 4 weights the tokens' sums {@code Σ_j w_j·x[token][4·quad + j]} as shorts (at most
 * 4·127 in magnitude), built from the tokens' activations transposed to one vector per column (about
 * 75 vector adds and 81 stores per quad, shared by all rows of a range). Then every row adds, per
 * quad, the table vector its index byte selects: one byte load and one vector add with a memory
 * operand per 4 weights and {@code T} tokens. On 256-bit vectors two tiles (32 tokens) share a
 * pass where the batch has them: entries of two vectors, one index load and address for two adds.
 * A chunk's tables are 20 KiB (16 tokens) or 41 KiB (32), in or near L1. The per-row 16-bit sums
 * live in memory between chunks and are widened to int at most every 64 quads (64·508 < 32768) and
 * at every group end, where the group's integer sums times its scale are added to the float sums,
 * lane by lane in the scalar reference's order (group by group, then the token's scale, then the
 * bias): results are bit for bit the reference's.
 *
 * <p>The front door runs it on 256-bit vectors only ({@code PanamaTernaryKernels.usesLut}); the
 * 512-bit form (32 tokens a vector) is kept, tested and measurable ({@code LutKernelProbe}), but
 * measured no faster than the 512-bit per-row table kernel.
 *
 * <p>Rows are split across the pool in two ranges per thread: each range builds its own tables
 * once per token tile and chunk. Chunk size, pairing and the batch from which this kernel is chosen
 * were measured ({@code LutKernelProbe}, docs/performance.md).
 */
final class PanamaLutKernels {

  private static final int BITS = ShortVector.SPECIES_PREFERRED.vectorBitSize();
  private static final VectorSpecies<Short> S = BITS >= 512 ? ShortVector.SPECIES_512 : ShortVector.SPECIES_256;
  private static final VectorSpecies<Integer> I = BITS >= 512 ? IntVector.SPECIES_512 : IntVector.SPECIES_256;
  private static final VectorSpecies<Float> F = BITS >= 512 ? FloatVector.SPECIES_512 : FloatVector.SPECIES_256;
  /** Tokens of one tile: the short lanes of one vector. */
  static final int T = S.length();
  /** Shorts of one quad's table. */
  private static final int QT = LutLayout.ENTRIES * T;
  private static final int CQ = LutLayout.CHUNK;
  /** Whether two tiles share a pass (256-bit vectors: 32 tokens, entries of two vectors). */
  private static final boolean PAIR = T == 16;
  /** Quads summed in a short before widening: 64 * 4 * 127 < 32768. */
  private static final int WIDEN_QUADS = 64;
  /** Fewest rows worth building a range's own tables for. */
  private static final int MIN_ROWS = 64;

  private PanamaLutKernels() {}

  /** Vector width in bits this kernel runs on in this JVM. */
  static int bits() {
    return S.vectorBitSize();
  }

  /** Per-thread buffers, kept between calls (every entry a call reads is written by it first). */
  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private static final class Scratch {
    final short[] tables = new short[CQ * QT * (PAIR ? 2 : 1)];
    final short[] xq = new short[CQ * 4 * T * (PAIR ? 2 : 1)];
    byte[] xs = new byte[0];
    short[] acc = new short[0];
    int[] isum = new int[0];
    float[] fsum = new float[0];

    byte[] xs(int n) {
      if (xs.length < n) {
        xs = new byte[n];
      }
      return xs;
    }

    short[] acc(int n) {
      if (acc.length < n) {
        acc = new short[n];
      }
      return acc;
    }

    int[] isum(int n) {
      if (isum.length < n) {
        isum = new int[n];
      }
      return isum;
    }

    float[] fsum(int n) {
      if (fsum.length < n) {
        fsum = new float[n];
      }
      return fsum;
    }
  }

  static void matmulInt8(PackedTernary w, MemorySegment q, float[] xScales, int batch, float[] bias, float[] y, RowPool pool) {
    LutLayout lay = LutLayout.of(w);
    int rows = w.rows();
    // two ranges per thread: few table builds, and a thread slowed by other work takes fewer
    int per = Math.max(MIN_ROWS, PackedTernary.ceilDiv(rows, 2 * pool.parallelism()));
    pool.forRange(rows, per, (ra, rb) -> {
      Scratch sc = SCRATCH.get();
      for (int t0 = 0; t0 < batch; ) {
        // on 256-bit vectors two tiles share each index: one byte load and address for 2 vector adds
        int n = PAIR && batch - t0 > T ? Math.min(2 * T, batch - t0) : Math.min(T, batch - t0);
        tile(w, lay, q, sc, t0, n, ra, rb, xScales, bias, y);
        t0 += n;
      }
    });
  }

  /** Tokens {@code [t0, t0 + n)} (n at most T, or 2T where {@link #PAIR}), rows {@code [ra, rb)}. */
  private static void tile(PackedTernary w, LutLayout lay, MemorySegment q, Scratch sc, int t0, int n, int ra, int rb, float[] xScales,
      float[] bias, float[] y) {
    int es = n > T ? 2 * T : T; // shorts per table entry: the tokens of this pass, padded
    int cols = w.cols();
    int rows = w.rows();
    int qpr = w.quadsPerRow();
    int qpg = w.quadsPerGroup();
    int groups = w.groupsPerRow();
    byte[] xs = sc.xs(es * cols);
    MemorySegment.copy(q, ValueLayout.JAVA_BYTE, (long) t0 * cols, xs, 0, n * cols);
    if (n < es) {
      Arrays.fill(xs, n * cols, es * cols, (byte) 0); // missing tokens: zero lanes, never stored
    }
    int nr = rb - ra;
    int[] isum = sc.isum(nr * es);
    float[] fsum = sc.fsum(nr * es);
    Arrays.fill(isum, 0, nr * es, 0);
    Arrays.fill(fsum, 0, nr * es, 0f);
    short[] acc = sc.acc(nr * es);
    Arrays.fill(acc, 0, nr * es, (short) 0);
    short[] tbl = sc.tables;
    byte[] ix = lay.indices();
    int pending = 0; // quads summed in the short sums since they were last widened
    for (int ch = 0; ch < lay.chunks(); ch++) {
      int q0 = ch * CQ;
      int q1 = Math.min(qpr, q0 + CQ);
      transpose(w, xs, q0, q1, es, sc.xq);
      for (int h = 0; h < es; h += T) {
        build(sc.xq, q1 - q0, es, h, tbl);
      }
      int base = lay.offset(ch, 0);
      // the chunk's runs of quads inside one group (one run unless a group ends inside the chunk)
      for (int qd = q0; qd < q1; ) {
        int g = qd / qpg;
        int gEnd = Math.min(qpr, (g + 1) * qpg);
        int end = Math.min(q1, gEnd);
        if (es == T) {
          if (end - qd == CQ) {
            rowsFull(tbl, ix, base, ra, rb, acc);
          } else {
            rowsRun(tbl, ix, base, ra, rb, qd - q0, end - q0, acc);
          }
        } else {
          if (end - qd == CQ) {
            rowsFull2(tbl, ix, base, ra, rb, acc);
          } else {
            rowsRun2(tbl, ix, base, ra, rb, qd - q0, end - q0, acc);
          }
        }
        pending += end - qd;
        boolean ends = end == gEnd;
        if (ends || pending + CQ > WIDEN_QUADS) {
          flush(w, acc, isum, fsum, ra, rb, es, ends ? g : -1, groups);
          pending = 0;
        }
        qd = end;
      }
    }
    for (int r = ra; r < rb; r++) {
      int at = (r - ra) * es;
      for (int t = 0; t < n; t++) {
        float v = fsum[at + t] * xScales[t0 + t];
        y[(t0 + t) * rows + r] = bias == null ? v : v + bias[r];
      }
    }
  }

  /** Every row of {@code [ra, rb)}: its short sums += the tables at its {@value LutLayout#CHUNK} indices of the chunk at {@code base}. */
  private static void rowsFull(short[] tbl, byte[] ix, int base, int ra, int rb, short[] acc) {
    for (int r = ra; r < rb; r++) {
      int o = base + r * CQ;
      int at = (r - ra) * T;
      ShortVector a = ShortVector.fromArray(S, acc, at);
      for (int k = 0; k < CQ; k++) {
        a = a.add(ShortVector.fromArray(S, tbl, k * QT + ix[o + k] * T));
      }
      a.intoArray(acc, at);
    }
  }

  /** {@link #rowsFull} for quads {@code [k0, k1)} of the chunk. */
  private static void rowsRun(short[] tbl, byte[] ix, int base, int ra, int rb, int k0, int k1, short[] acc) {
    for (int r = ra; r < rb; r++) {
      int o = base + r * CQ;
      int at = (r - ra) * T;
      ShortVector a = ShortVector.fromArray(S, acc, at);
      for (int k = k0; k < k1; k++) {
        a = a.add(ShortVector.fromArray(S, tbl, k * QT + ix[o + k] * T));
      }
      a.intoArray(acc, at);
    }
  }

  /** {@link #rowsFull} for two tiles: entries of 2T shorts, two sums per row. */
  private static void rowsFull2(short[] tbl, byte[] ix, int base, int ra, int rb, short[] acc) {
    for (int r = ra; r < rb; r++) {
      int o = base + r * CQ;
      int at = (r - ra) * 2 * T;
      ShortVector a = ShortVector.fromArray(S, acc, at);
      ShortVector b = ShortVector.fromArray(S, acc, at + T);
      for (int k = 0; k < CQ; k++) {
        int e = 2 * k * QT + ix[o + k] * (2 * T);
        a = a.add(ShortVector.fromArray(S, tbl, e));
        b = b.add(ShortVector.fromArray(S, tbl, e + T));
      }
      a.intoArray(acc, at);
      b.intoArray(acc, at + T);
    }
  }

  /** {@link #rowsFull2} for quads {@code [k0, k1)} of the chunk. */
  private static void rowsRun2(short[] tbl, byte[] ix, int base, int ra, int rb, int k0, int k1, short[] acc) {
    for (int r = ra; r < rb; r++) {
      int o = base + r * CQ;
      int at = (r - ra) * 2 * T;
      ShortVector a = ShortVector.fromArray(S, acc, at);
      ShortVector b = ShortVector.fromArray(S, acc, at + T);
      for (int k = k0; k < k1; k++) {
        int e = 2 * k * QT + ix[o + k] * (2 * T);
        a = a.add(ShortVector.fromArray(S, tbl, e));
        b = b.add(ShortVector.fromArray(S, tbl, e + T));
      }
      a.intoArray(acc, at);
      b.intoArray(acc, at + T);
    }
  }

  /**
   * Widens every row's short sums ({@code es} lanes) into its int sums and clears them; at the end
   * of group {@code g} ({@code g >= 0}) adds the int sums times the row's scale of {@code g} to the
   * float sums and clears them: per lane, the scalar reference's {@code s += (float) acc * scale}.
   */
  private static void flush(PackedTernary w, short[] acc, int[] isum, float[] fsum, int ra, int rb, int es, int g, int groups) {
    float[] bs = w.blockScales();
    ShortVector zero = ShortVector.zero(S);
    for (int r = ra; r < rb; r++) {
      float scale = g < 0 ? 0f : bs[((r / PackedTernary.BLOCK_ROWS) * groups + g) * PackedTernary.BLOCK_ROWS + r % PackedTernary.BLOCK_ROWS];
      for (int at = (r - ra) * es, end = at + es; at < end; at += T) {
        ShortVector a = ShortVector.fromArray(S, acc, at);
        zero.intoArray(acc, at);
        IntVector lo = IntVector.fromArray(I, isum, at).add((IntVector) a.convertShape(VectorOperators.S2I, I, 0));
        IntVector hi = IntVector.fromArray(I, isum, at + I.length()).add((IntVector) a.convertShape(VectorOperators.S2I, I, 1));
        if (g >= 0) {
          FloatVector f0 = ((FloatVector) lo.convert(VectorOperators.I2F, 0)).mul(scale);
          FloatVector f1 = ((FloatVector) hi.convert(VectorOperators.I2F, 0)).mul(scale);
          FloatVector.fromArray(F, fsum, at).add(f0).intoArray(fsum, at);
          FloatVector.fromArray(F, fsum, at + F.length()).add(f1).intoArray(fsum, at + F.length());
          lo = IntVector.zero(I);
          hi = IntVector.zero(I);
        }
        lo.intoArray(isum, at);
        hi.intoArray(isum, at + I.length());
      }
    }
  }

  /**
   * Quads {@code [q0, q1)} of the tile's activations ({@code xs}: T tokens of {@code cols}) into
   * {@code xq}: for quad k and column j, the T tokens' values as shorts at {@code (4k + j) * T}; columns
   * past a group's end are 0.
   */
  private static void transpose(PackedTernary w, byte[] xs, int q0, int q1, int es, short[] xq) {
    int cols = w.cols();
    int qpg = w.quadsPerGroup();
    for (int qd = q0; qd < q1; qd++) {
      int g = qd / qpg;
      int within = (qd - g * qpg) * 4;
      int c = g * w.groupSize() + within;
      int valid = Math.min(4, w.colsInGroup(g) - within);
      int xo = (qd - q0) * 4 * es;
      for (int j = 0; j < 4; j++) {
        if (j < valid) {
          for (int t = 0; t < es; t++) {
            xq[xo + j * es + t] = xs[t * cols + c + j];
          }
        } else {
          Arrays.fill(xq, xo + j * es, xo + (j + 1) * es, (short) 0);
        }
      }
    }
  }

  /**
   * The tables of {@code quads} quads: entry {@code i01 + 9·i23} of quad k is {@code p01[i01] +
   * p23[i23]}, where {@code p01[a + 3b] = (a - 1)·x0 + (b - 1)·x1} and likewise for columns 2 and 3.
   */
  private static void build(short[] xq, int quads, int es, int h, short[] tbl) {
    ShortVector zero = ShortVector.zero(S);
    for (int k = 0; k < quads; k++) {
      int xo = k * 4 * es + h;
      ShortVector v0 = ShortVector.fromArray(S, xq, xo);
      ShortVector v1 = ShortVector.fromArray(S, xq, xo + es);
      ShortVector v2 = ShortVector.fromArray(S, xq, xo + 2 * es);
      ShortVector v3 = ShortVector.fromArray(S, xq, xo + 3 * es);
      ShortVector n0 = v0.neg();
      ShortVector n1 = v1.neg();
      ShortVector n2 = v2.neg();
      ShortVector n3 = v3.neg();
      ShortVector a0 = n0.add(n1);
      ShortVector a2 = v0.add(n1);
      ShortVector a6 = n0.add(v1);
      ShortVector a8 = v0.add(v1);
      int to = k * LutLayout.ENTRIES * es + h;
      int nine = 9 * es;
      put9(tbl, to, es, a0, n1, a2, n0, zero, v0, a6, v1, a8, n2.add(n3));
      put9(tbl, to + nine, es, a0, n1, a2, n0, zero, v0, a6, v1, a8, n3);
      put9(tbl, to + 2 * nine, es, a0, n1, a2, n0, zero, v0, a6, v1, a8, v2.add(n3));
      put9(tbl, to + 3 * nine, es, a0, n1, a2, n0, zero, v0, a6, v1, a8, n2);
      put9(tbl, to + 4 * nine, es, a0, n1, a2, n0, zero, v0, a6, v1, a8, zero);
      put9(tbl, to + 5 * nine, es, a0, n1, a2, n0, zero, v0, a6, v1, a8, v2);
      put9(tbl, to + 6 * nine, es, a0, n1, a2, n0, zero, v0, a6, v1, a8, n2.add(v3));
      put9(tbl, to + 7 * nine, es, a0, n1, a2, n0, zero, v0, a6, v1, a8, v3);
      put9(tbl, to + 8 * nine, es, a0, n1, a2, n0, zero, v0, a6, v1, a8, v2.add(v3));
    }
  }

  private static void put9(short[] tbl, int to, int es, ShortVector a0, ShortVector a1, ShortVector a2, ShortVector a3, ShortVector a4,
      ShortVector a5, ShortVector a6, ShortVector a7, ShortVector a8, ShortVector b) {
    a0.add(b).intoArray(tbl, to);
    a1.add(b).intoArray(tbl, to + es);
    a2.add(b).intoArray(tbl, to + 2 * es);
    a3.add(b).intoArray(tbl, to + 3 * es);
    a4.add(b).intoArray(tbl, to + 4 * es);
    a5.add(b).intoArray(tbl, to + 5 * es);
    a6.add(b).intoArray(tbl, to + 6 * es);
    a7.add(b).intoArray(tbl, to + 7 * es);
    a8.add(b).intoArray(tbl, to + 8 * es);
  }
}
