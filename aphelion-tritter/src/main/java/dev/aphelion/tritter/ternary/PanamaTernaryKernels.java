package dev.aphelion.tritter.ternary;

import dev.aphelion.tritter.parallel.RowPool;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API version of {@link TernaryKernels}: T-MAC-style table lookups on the {@link
 * PackedTernary} layout (one byte per row and 4 columns, +1 mask in the low nibble, -1 mask in the
 * high nibble, 32 rows interleaved).
 *
 * <p>Int8: for every quad of 4 activations the 16 subset sums are built as {@code short}s (stored
 * twice, in lanes 0-15 and 16-31, so that both a raw byte and the byte shifted right by 4 index the
 * right entry through {@code selectFrom}'s index wrapping without a mask); then 32 rows at a time,
 * {@code acc += T[plus] - T[minus]} with two lane permutations, widened to int every 64 quads
 * (|T[plus] - T[minus]| <= 4 * 127, so 64 of them fit a short).
 *
 * <p>Float: the 16 subset sums as floats (one 16-lane vector), indexed the same way 16 rows at a
 * time.
 *
 * <p>Needs 512-bit vectors (AVX-512 with VBMI/BW); on narrower hardware every call is delegated to
 * the scalar reference. Public only so that {@link dev.aphelion.tritter.vector.Vectorization} can
 * create it.
 */
public final class PanamaTernaryKernels implements TernaryKernels {

  private static final VectorSpecies<Short> S = ShortVector.SPECIES_512;
  private static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
  private static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
  private static final VectorSpecies<Byte> B512 = ByteVector.SPECIES_512;
  private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
  private static final int BR = PackedTernary.BLOCK_ROWS;
  /** Quads summed in a short before widening: 64 * 508 < 32768. */
  private static final int WIDEN_EVERY = 64;
  /** Quads per column chunk: 128 quads of tables are 8 KiB, well inside L1. */
  private static final int CHUNK = 128;
  /** Row blocks that share one pass over a column chunk (their partial sums are kept in between). */
  private static final int SPAN = 4;
  /** Quads of tables worth building on another thread. */
  private static final int TABLE_QUADS_PER_TASK = 512;
  /** Tokens whose tables are built and used together in a GEMM. */
  private static final int TOKEN_TILE = 4;

  private static final boolean SUPPORTED =
      ShortVector.SPECIES_PREFERRED.vectorBitSize() >= 512;

  // Lane l of SUBSET_j is set when bit j of (l mod 16) is set: which activations table entry l sums.
  private static final VectorMask<Short>[] SHORT_SUBSET = shortSubsets();
  private static final VectorMask<Float>[] FLOAT_SUBSET = floatSubsets();

  private final ScalarTernaryKernels fallback = new ScalarTernaryKernels();

  /**
   * Table buffers of the calling thread, kept between calls: a 14336-column token has 229 KB of
   * tables, and allocating (and zeroing) them on every GEMV showed up as garbage-collector work.
   * Every entry a call reads is written by the same call first. Per calling thread, so concurrent
   * calls from different threads never share one.
   */
  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private static final class Scratch {
    short[][] shorts = new short[0][];
    int[][] ints = new int[0][];

    short[][] shortTables(int tokens, int len) {
      if (shorts.length < tokens || shorts[0].length < len) {
        shorts = new short[Math.max(tokens, shorts.length)][Math.max(len, shorts.length == 0 ? 0 : shorts[0].length)];
      }
      return shorts;
    }

    int[][] intTables(int tokens, int len) {
      if (ints.length < tokens || ints[0].length < len) {
        ints = new int[Math.max(tokens, ints.length)][Math.max(len, ints.length == 0 ? 0 : ints[0].length)];
      }
      return ints;
    }
  }

  /** Creates the kernels. */
  public PanamaTernaryKernels() {}

  @SuppressWarnings("unchecked")
  private static VectorMask<Short>[] shortSubsets() {
    VectorMask<Short>[] m = new VectorMask[4];
    for (int j = 0; j < 4; j++) {
      boolean[] bits = new boolean[S.length()];
      for (int l = 0; l < bits.length; l++) {
        bits[l] = ((l & 15) >>> j & 1) != 0;
      }
      m[j] = VectorMask.fromArray(S, bits, 0);
    }
    return m;
  }

  @SuppressWarnings("unchecked")
  private static VectorMask<Float>[] floatSubsets() {
    VectorMask<Float>[] m = new VectorMask[4];
    for (int j = 0; j < 4; j++) {
      boolean[] bits = new boolean[F.length()];
      for (int l = 0; l < bits.length; l++) {
        bits[l] = ((l & 15) >>> j & 1) != 0;
      }
      m[j] = VectorMask.fromArray(F, bits, 0);
    }
    return m;
  }

  // ---------------------------------------------------------------- int8

  @Override
  public void matmulInt8(PackedTernary w, MemorySegment q, float[] xScales, int batch, float[] bias, float[] y, RowPool pool) {
    if (!SUPPORTED) {
      fallback.matmulInt8(w, q, xScales, batch, bias, y, pool);
      return;
    }
    int qpr = w.quadsPerRow();
    int tile = Math.min(batch, TOKEN_TILE);
    short[][] tables = SCRATCH.get().shortTables(tile, qpr * S.length());
    for (int t0 = 0; t0 < batch; t0 += tile) {
      int n = Math.min(tile, batch - t0);
      int first = t0;
      // one bulk copy of the tile's activations instead of a checked segment read per value
      byte[] xs = new byte[n * w.cols()];
      MemorySegment.copy(q, ValueLayout.JAVA_BYTE, (long) first * w.cols(), xs, 0, xs.length);
      pool.forRange(qpr, TABLE_QUADS_PER_TASK, (qa, qb) -> {
        for (int t = 0; t < n; t++) {
          buildShortTables(w, xs, t * w.cols(), tables[t], qa, qb);
        }
      });
      pool.forRange(w.spans(), TernaryKernels.minSpansPerTask(w), (sp0, sp1) -> {
        for (int t = 0; t < n; t++) {
          int token = first + t;
          for (int sp = sp0; sp < sp1; sp++) {
            int8Span(w, tables[t], sp, xScales[token], bias, y, token * w.rows());
          }
        }
      });
    }
  }

  /** The 16 subset sums of quads {@code [qa, qb)} of one token, duplicated to 32 lanes. */
  private static void buildShortTables(PackedTernary w, byte[] x, int base, short[] tbl, int qa, int qb) {
    VectorMask<Short> m0 = SHORT_SUBSET[0];
    VectorMask<Short> m1 = SHORT_SUBSET[1];
    VectorMask<Short> m2 = SHORT_SUBSET[2];
    VectorMask<Short> m3 = SHORT_SUBSET[3];
    ShortVector zero = ShortVector.zero(S);
    int qpg = w.quadsPerGroup();
    int quad = qa;
    while (quad < qb) {
      // one group at a time: no division per quad, and the full quads need no length checks
      int g = quad / qpg;
      int len = w.colsInGroup(g);
      int gEnd = Math.min(qb, g * qpg + w.quadsInGroup(g));
      int fullEnd = Math.min(gEnd, g * qpg + len / 4);
      int c = base + g * w.groupSize() + (quad - g * qpg) * 4;
      for (; quad < fullEnd; quad++, c += 4) {
        zero.add(ShortVector.broadcast(S, x[c]), m0)
            .add(ShortVector.broadcast(S, x[c + 1]), m1)
            .add(ShortVector.broadcast(S, x[c + 2]), m2)
            .add(ShortVector.broadcast(S, x[c + 3]), m3)
            .intoArray(tbl, quad * S.length());
      }
      for (; quad < gEnd; quad++, c += 4) { // ragged last quad of a group: missing activations are 0
        int k = (quad - g * qpg) * 4;
        short x1 = k + 1 < len ? x[c + 1] : 0;
        short x2 = k + 2 < len ? x[c + 2] : 0;
        zero.add(ShortVector.broadcast(S, x[c]), m0)
            .add(ShortVector.broadcast(S, x1), m1)
            .add(ShortVector.broadcast(S, x2), m2)
            .intoArray(tbl, quad * S.length());
      }
    }
  }

  /**
   * Rows of blocks {@code [b0, b1)} for one token. Columns are walked in chunks of {@value PackedTernary#CHUNK_QUADS}
   * quads, and each chunk is applied to every block of the span before the next chunk, so that the
   * chunk's tables (64 bytes a quad) stay in L1 while the weights stream through; the per-block
   * partial sums live in small arrays between chunks. The order of the integer and float operations
   * per row is the same as without chunking (groups in order), so results are exact.
   */
  private static void int8Span(PackedTernary w, short[] tbl, int span, float xScale, float[] bias, float[] y, int yOff) {
    int b0 = span * PackedTernary.SPAN_BLOCKS;
    int b1 = Math.min(w.rowBlocks(), b0 + PackedTernary.SPAN_BLOCKS);
    byte[] nib = w.nibbles();
    float[] bs = w.blockScales();
    int qpr = w.quadsPerRow();
    int qpg = w.quadsPerGroup();
    int groups = w.groupsPerRow();
    int nb = b1 - b0;
    int[] accI = new int[nb * BR];
    float[] accF = new float[nb * BR];
    for (int c0 = 0; c0 < qpr; c0 += PackedTernary.CHUNK_QUADS) {
      int c1 = Math.min(qpr, c0 + PackedTernary.CHUNK_QUADS);
      for (int blk = b0; blk < b1; blk++) {
        int st = (blk - b0) * BR;
        // the chunk's weights of this block start here; quad q of the chunk is at wBase + (q - c0) * BR
        int wBase = w.quadOffset(blk, c0) - c0 * BR;
        int sBase = blk * groups * BR;
        IntVector a0 = IntVector.fromArray(I, accI, st);
        IntVector a1 = IntVector.fromArray(I, accI, st + 16);
        FloatVector s0 = FloatVector.fromArray(F, accF, st);
        FloatVector s1 = FloatVector.fromArray(F, accF, st + 16);
        int quad = c0;
        while (quad < c1) {
          int g = quad / qpg;
          int groupEnd = Math.min(qpr, (g + 1) * qpg);
          int stop = Math.min(Math.min(c1, groupEnd), quad + WIDEN_EVERY);
          ShortVector acc = ShortVector.zero(S);
          for (; quad < stop; quad++) {
            ShortVector idx = (ShortVector) ByteVector.fromArray(B256, nib, wBase + quad * BR).convertShape(VectorOperators.B2S, S, 0);
            ShortVector t = ShortVector.fromArray(S, tbl, quad * BR);
            acc = acc.add(idx.selectFrom(t)).sub(idx.lanewise(VectorOperators.LSHR, 4).selectFrom(t));
          }
          a0 = a0.add((IntVector) acc.convertShape(VectorOperators.S2I, I, 0));
          a1 = a1.add((IntVector) acc.convertShape(VectorOperators.S2I, I, 1));
          if (quad == groupEnd) {
            FloatVector f0 = (FloatVector) a0.convert(VectorOperators.I2F, 0);
            FloatVector f1 = (FloatVector) a1.convert(VectorOperators.I2F, 0);
            s0 = s0.add(f0.mul(FloatVector.fromArray(F, bs, sBase + g * BR)));
            s1 = s1.add(f1.mul(FloatVector.fromArray(F, bs, sBase + g * BR + 16)));
            a0 = IntVector.zero(I);
            a1 = IntVector.zero(I);
          }
        }
        a0.intoArray(accI, st);
        a1.intoArray(accI, st + 16);
        s0.intoArray(accF, st);
        s1.intoArray(accF, st + 16);
      }
    }
    for (int blk = b0; blk < b1; blk++) {
      int st = (blk - b0) * BR;
      store(FloatVector.fromArray(F, accF, st).mul(xScale), FloatVector.fromArray(F, accF, st + 16).mul(xScale), blk, w.rows(), bias, y, yOff);
    }
  }

  /** Adds the bias and stores the 32 rows of a block, clipped to {@code rows}. */
  private static void store(FloatVector s0, FloatVector s1, int blk, int rows, float[] bias, float[] y, int yOff) {
    int r0 = blk * BR;
    if (r0 + BR <= rows) {
      if (bias != null) {
        s0 = s0.add(FloatVector.fromArray(F, bias, r0));
        s1 = s1.add(FloatVector.fromArray(F, bias, r0 + 16));
      }
      s0.intoArray(y, yOff + r0);
      s1.intoArray(y, yOff + r0 + 16);
    } else {
      for (int i = 0; i < BR && r0 + i < rows; i++) {
        float v = i < 16 ? s0.lane(i) : s1.lane(i - 16);
        y[yOff + r0 + i] = bias == null ? v : v + bias[r0 + i];
      }
    }
  }

  // ---------------------------------------------------------------- float

  @Override
  public void matmulFloat(PackedTernary w, float[] x, int batch, float[] bias, float[] y, RowPool pool) {
    if (!SUPPORTED) {
      fallback.matmulFloat(w, x, batch, bias, y, pool);
      return;
    }
    int qpr = w.quadsPerRow();
    int tile = Math.min(batch, TOKEN_TILE);
    int[][] tables = SCRATCH.get().intTables(tile, qpr * F.length());
    for (int t0 = 0; t0 < batch; t0 += tile) {
      int n = Math.min(tile, batch - t0);
      int first = t0;
      pool.forRange(qpr, TABLE_QUADS_PER_TASK, (qa, qb) -> {
        for (int t = 0; t < n; t++) {
          buildFloatTables(w, x, (first + t) * w.cols(), tables[t], qa, qb);
        }
      });
      pool.forRange(w.spans(), TernaryKernels.minSpansPerTask(w), (sp0, sp1) -> {
        for (int t = 0; t < n; t++) {
          int token = first + t;
          for (int sp = sp0; sp < sp1; sp++) {
            floatSpan(w, tables[t], sp, bias, y, token * w.rows());
          }
        }
      });
    }
  }

  /** The 16 subset sums of quads {@code [qa, qb)} of one token as float bits (for int-indexed lookups). */
  private static void buildFloatTables(PackedTernary w, float[] x, int base, int[] tbl, int qa, int qb) {
    VectorMask<Float> m0 = FLOAT_SUBSET[0];
    VectorMask<Float> m1 = FLOAT_SUBSET[1];
    VectorMask<Float> m2 = FLOAT_SUBSET[2];
    VectorMask<Float> m3 = FLOAT_SUBSET[3];
    FloatVector zero = FloatVector.zero(F);
    int qpg = w.quadsPerGroup();
    int quad = qa;
    while (quad < qb) {
      int g = quad / qpg;
      int len = w.colsInGroup(g);
      int gEnd = Math.min(qb, g * qpg + w.quadsInGroup(g));
      int fullEnd = Math.min(gEnd, g * qpg + len / 4);
      int c = base + g * w.groupSize() + (quad - g * qpg) * 4;
      for (; quad < fullEnd; quad++, c += 4) {
        zero.add(FloatVector.broadcast(F, x[c]), m0)
            .add(FloatVector.broadcast(F, x[c + 1]), m1)
            .add(FloatVector.broadcast(F, x[c + 2]), m2)
            .add(FloatVector.broadcast(F, x[c + 3]), m3)
            .reinterpretAsInts()
            .intoArray(tbl, quad * F.length());
      }
      for (; quad < gEnd; quad++, c += 4) { // ragged last quad of a group: missing activations are 0
        int k = (quad - g * qpg) * 4;
        float x1 = k + 1 < len ? x[c + 1] : 0f;
        float x2 = k + 2 < len ? x[c + 2] : 0f;
        zero.add(FloatVector.broadcast(F, x[c]), m0)
            .add(FloatVector.broadcast(F, x1), m1)
            .add(FloatVector.broadcast(F, x2), m2)
            .reinterpretAsInts()
            .intoArray(tbl, quad * F.length());
      }
    }
  }

  /** Rows of blocks {@code [b0, b1)} for one token, chunked over columns like {@link #int8Span}. */
  private static void floatSpan(PackedTernary w, int[] tbl, int span, float[] bias, float[] y, int yOff) {
    int b0 = span * PackedTernary.SPAN_BLOCKS;
    int b1 = Math.min(w.rowBlocks(), b0 + PackedTernary.SPAN_BLOCKS);
    byte[] nib = w.nibbles();
    float[] bs = w.blockScales();
    int qpr = w.quadsPerRow();
    int qpg = w.quadsPerGroup();
    int groups = w.groupsPerRow();
    int nb = b1 - b0;
    float[] accG = new float[nb * BR];
    float[] accF = new float[nb * BR];
    for (int c0 = 0; c0 < qpr; c0 += PackedTernary.CHUNK_QUADS) {
      int c1 = Math.min(qpr, c0 + PackedTernary.CHUNK_QUADS);
      for (int blk = b0; blk < b1; blk++) {
        int st = (blk - b0) * BR;
        int wBase = w.quadOffset(blk, c0) - c0 * BR;
        int sBase = blk * groups * BR;
        FloatVector a0 = FloatVector.fromArray(F, accG, st);
        FloatVector a1 = FloatVector.fromArray(F, accG, st + 16);
        FloatVector s0 = FloatVector.fromArray(F, accF, st);
        FloatVector s1 = FloatVector.fromArray(F, accF, st + 16);
        int quad = c0;
        while (quad < c1) {
          int g = quad / qpg;
          int groupEnd = Math.min(qpr, (g + 1) * qpg);
          int stop = Math.min(c1, groupEnd);
          for (; quad < stop; quad++) {
            IntVector t = IntVector.fromArray(I, tbl, quad * 16);
            int off = wBase + quad * BR;
            IntVector i0 = (IntVector) ByteVector.fromArray(B128, nib, off).convertShape(VectorOperators.B2I, I, 0);
            IntVector i1 = (IntVector) ByteVector.fromArray(B128, nib, off + 16).convertShape(VectorOperators.B2I, I, 0);
            // difference first: one dependent add per quad on each accumulator instead of two
            a0 = a0.add(i0.selectFrom(t).reinterpretAsFloats().sub(i0.lanewise(VectorOperators.ASHR, 4).selectFrom(t).reinterpretAsFloats()));
            a1 = a1.add(i1.selectFrom(t).reinterpretAsFloats().sub(i1.lanewise(VectorOperators.ASHR, 4).selectFrom(t).reinterpretAsFloats()));
          }
          if (quad == groupEnd) {
            s0 = s0.add(a0.mul(FloatVector.fromArray(F, bs, sBase + g * BR)));
            s1 = s1.add(a1.mul(FloatVector.fromArray(F, bs, sBase + g * BR + 16)));
            a0 = FloatVector.zero(F);
            a1 = FloatVector.zero(F);
          }
        }
        a0.intoArray(accG, st);
        a1.intoArray(accG, st + 16);
        s0.intoArray(accF, st);
        s1.intoArray(accF, st + 16);
      }
    }
    for (int blk = b0; blk < b1; blk++) {
      int st = (blk - b0) * BR;
      store(FloatVector.fromArray(F, accF, st), FloatVector.fromArray(F, accF, st + 16), blk, w.rows(), bias, y, yOff);
    }
  }

  // ---------------------------------------------------------------- dot

  @Override
  public int dot(byte[] a, byte[] b) {
    int n = a.length;
    int lanes = B512.length();
    int bound = B512.loopBound(n);
    int total = 0;
    int i = 0;
    while (i < bound) {
      // products are in {-1, 0, 1}: 127 of them fit a byte lane
      int stop = Math.min(bound, i + 127 * lanes);
      ByteVector acc = ByteVector.zero(B512);
      for (; i < stop; i += lanes) {
        acc = acc.add(ByteVector.fromArray(B512, a, i).mul(ByteVector.fromArray(B512, b, i)));
      }
      total += (int) (acc.convertShape(VectorOperators.B2I, I, 0).reduceLanesToLong(VectorOperators.ADD)
          + acc.convertShape(VectorOperators.B2I, I, 1).reduceLanesToLong(VectorOperators.ADD)
          + acc.convertShape(VectorOperators.B2I, I, 2).reduceLanesToLong(VectorOperators.ADD)
          + acc.convertShape(VectorOperators.B2I, I, 3).reduceLanesToLong(VectorOperators.ADD));
    }
    for (; i < n; i++) {
      total += a[i] * b[i];
    }
    return total;
  }
}
