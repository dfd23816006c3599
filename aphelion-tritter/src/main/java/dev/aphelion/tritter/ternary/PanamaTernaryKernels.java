package dev.aphelion.tritter.ternary;

import dev.aphelion.tritter.kernel.RowPool;
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
 * (|T[plus] - T[minus]| <= 4 * 127, so 64 of them fit a short). A full tile of four tokens shares
 * each weight load and its two indices across the four tokens' tables ({@code int8Span4}).
 *
 * <p>Float: the 16 subset sums as floats (one 16-lane vector), indexed the same way 16 rows at a
 * time.
 *
 * <p>256-bit vectors (AVX2 class, or {@code -XX:MaxVectorSize=32}): the int8 kernel keeps the
 * same packed layout and uses 16-lane short vectors; the 16-entry table fills one vector exactly
 * (no duplication), so each 32-row block is processed as two 16-row halves of the same 32 weight
 * bytes against the same table. The float kernel keeps its 16-float table as two 8-lane halves and
 * indexes both with a two-vector {@code selectFrom}, 8 rows at a time. Below 256 bits every call is
 * delegated to the scalar reference. Public only so that {@link
 * dev.aphelion.tritter.kernel.Vectorization} can create it.
 */
final class PanamaTernaryKernels implements TernaryKernels {

  private static final VectorSpecies<Short> S = ShortVector.SPECIES_512;
  private static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
  private static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
  private static final VectorSpecies<Byte> BP = ByteVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Integer> IP = IntVector.SPECIES_PREFERRED;
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
  /** From this many tokens on, the activation-parallel table kernel ({@link PanamaLutKernels}) runs. */
  static final int LUT_FROM = 16;
  /** Smallest scale group (in quads) for it: a group's end costs every row a float step. */
  static final int LUT_MIN_GROUP_QUADS = 32;

  private static final VectorSpecies<Short> S16 = ShortVector.SPECIES_256;
  private static final VectorSpecies<Integer> I8 = IntVector.SPECIES_256;
  private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;

  private static final int PREFERRED_BITS = ShortVector.SPECIES_PREFERRED.vectorBitSize();
  /** All kernels on 512-bit vectors. */
  private static final boolean SUPPORTED = PREFERRED_BITS >= 512;
  /** All kernels on 256-bit vectors. */
  private static final boolean INT8_256 = !SUPPORTED && PREFERRED_BITS >= 256;
  private static final VectorSpecies<Byte> B64 = ByteVector.SPECIES_64;

  // Lane l of SUBSET_j is set when bit j of (l mod 16) is set: which activations table entry l sums.
  private static final VectorMask<Short>[] SHORT_SUBSET = shortSubsets();
  private static final VectorMask<Float>[] FLOAT_SUBSET = floatSubsets();
  private static final VectorMask<Short>[] SHORT_SUBSET_16 = shortSubsets16();
  private static final VectorMask<Float>[] FLOAT_SUBSET_8 = floatSubsets8();

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

    /** The call whose int8 tables {@link #shorts} hold, or {@code null}. */
    Object builtFor;

    short[][] shortTables(int tokens, int len) {
      if (shorts.length < tokens || shorts[0].length < len) {
        shorts = new short[Math.max(tokens, shorts.length)][Math.max(len, shorts.length == 0 ? 0 : shorts[0].length)];
      }
      return shorts;
    }

    /** The int8 tables of the {@code n} tokens of {@code xs} for call {@code key}, built on first use. */
    short[][] tablesFor(Object key, PackedTernary w, byte[] xs, int n, int len, boolean wide) {
      short[][] t = shortTables(n, len);
      if (builtFor != key) {
        int qpr = w.quadsPerRow();
        for (int i = 0; i < n; i++) {
          if (wide) {
            buildShortTables(w, xs, i * w.cols(), t[i], 0, qpr);
          } else {
            buildShortTables256(w, xs, i * w.cols(), t[i], 0, qpr);
          }
        }
        builtFor = key;
      }
      return t;
    }

    int[][] intTables(int tokens, int len) {
      if (ints.length < tokens || ints[0].length < len) {
        ints = new int[Math.max(tokens, ints.length)][Math.max(len, ints.length == 0 ? 0 : ints[0].length)];
      }
      return ints;
    }
  }

  /** Creates the kernels. */
  PanamaTernaryKernels() {}

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
  private static VectorMask<Short>[] shortSubsets16() {
    VectorMask<Short>[] m = new VectorMask[4];
    for (int j = 0; j < 4; j++) {
      boolean[] bits = new boolean[S16.length()];
      for (int l = 0; l < bits.length; l++) {
        bits[l] = (l >>> j & 1) != 0;
      }
      m[j] = VectorMask.fromArray(S16, bits, 0);
    }
    return m;
  }

  /**
   * Vector width in bits the int8 kernel runs on in this JVM: 512, 256, or 0 when it hands over to
   * the scalar reference. For tests and diagnostics.
   */
  static int int8VectorBits() {
    return SUPPORTED ? 512 : INT8_256 ? 256 : 0;
  }

  /**
   * The int8 kernel {@code w} runs on in this JVM: {@code "lut512"} (16-entry short tables, 32 rows
   * per lookup), {@code "word256"} ({@link PanamaWordKernels}: 2-bit fields in 16-bit words,
   * multiply-add, no lookups), {@code "lut256"} (the table kernel on 16-lane shorts, for weights whose
   * small groups do not suit {@link WordLayout}), or {@code "scalar"}. For tests and diagnostics.
   */
  static String int8Kernel(PackedTernary w) {
    if (SUPPORTED) {
      return "lut512";
    }
    if (!INT8_256) {
      return "scalar";
    }
    return WordLayout.suits(w) ? "word256" : "lut256";
  }

  /**
   * The int8 kernel {@code w} runs on for a batch of {@code batch} tokens: {@link #int8Kernel}, with
   * {@code "x4"} appended where four tokens share each weight load ({@code "lut512x4"}, the 512-bit
   * table kernel from four tokens on), or {@code "alut256"} where the activation-parallel table
   * kernel ({@link PanamaLutKernels}) runs (256-bit vectors, {@value #LUT_FROM} tokens or more,
   * groups of at least {@value #LUT_MIN_GROUP_QUADS} quads). For tests and diagnostics.
   */
  static String int8Kernel(PackedTernary w, int batch) {
    if (usesLut(w, batch)) {
      return "alut" + PanamaLutKernels.bits();
    }
    String k = int8Kernel(w);
    return k.equals("lut512") && batch >= TOKEN_TILE ? k + "x4" : k;
  }

  @Override
  public String int8KernelName(PackedTernary w, int batch) {
    return int8Kernel(w, batch);
  }

  /** Vector width in bits the float kernel runs on in this JVM: 512, 256, or 0 (scalar reference). */
  static int floatVectorBits() {
    return int8VectorBits();
  }

  @SuppressWarnings("unchecked")
  private static VectorMask<Float>[] floatSubsets8() {
    VectorMask<Float>[] m = new VectorMask[3];
    for (int j = 0; j < 3; j++) {
      boolean[] bits = new boolean[F8.length()];
      for (int l = 0; l < bits.length; l++) {
        bits[l] = (l >>> j & 1) != 0;
      }
      m[j] = VectorMask.fromArray(F8, bits, 0);
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
  public void prepareInt8(PackedTernary w) {
    if (INT8_256 && WordLayout.suits(w)) {
      WordLayout.of(w);
    }
    if (usesLut(w, LUT_FROM)) {
      LutLayout.of(w);
    }
  }

  @Override
  public void matmulInt8(PackedTernary w, MemorySegment q, float[] xScales, int batch, float[] bias, float[] y, RowPool pool) {
    if (usesLut(w, batch)) {
      PanamaLutKernels.matmulInt8(w, q, xScales, batch, bias, y, pool);
      return;
    }
    matmulInt8PerRow(w, q, xScales, batch, bias, y, pool);
  }

  /**
   * Whether {@code batch} tokens on {@code w} run on the activation-parallel table kernel: on
   * 256-bit vectors only; at 512 bits it measured no faster than {@code lut512x4} at 512 tokens and
   * slower at 16 (docs/performance.md), so it is not chosen there.
   */
  static boolean usesLut(PackedTernary w, int batch) {
    return INT8_256 && batch >= LUT_FROM && w.quadsPerGroup() >= LUT_MIN_GROUP_QUADS && LutLayout.fits(w);
  }

  /** The int8 kernels that keep rows in the lanes (every path but the activation-parallel one). */
  static void matmulInt8PerRow(PackedTernary w, MemorySegment q, float[] xScales, int batch, float[] bias, float[] y, RowPool pool) {
    if (!SUPPORTED && !INT8_256) {
      new ScalarTernaryKernels().matmulInt8(w, q, xScales, batch, bias, y, pool);
      return;
    }
    if (INT8_256 && WordLayout.suits(w)) {
      PanamaWordKernels.matmulInt8(w, q, xScales, batch, bias, y, pool);
      return;
    }
    rowTables(new PackedTernary[] {w}, q, xScales, batch, new float[][] {bias}, new float[][] {y}, pool);
  }

  @Override
  public void matmulInt8Shared(PackedTernary[] ws, MemorySegment q, float[] xScales, int batch, float[][] bias, float[][] y,
      RowPool pool) {
    if (!sharesTables(ws, batch)) {
      TernaryKernels.super.matmulInt8Shared(ws, q, xScales, batch, bias, y, pool);
      return;
    }
    rowTables(ws, q, xScales, batch, bias, y, pool);
  }

  /** Whether all of {@code ws} run on the row-parallel table kernel and read the same tables. */
  private static boolean sharesTables(PackedTernary[] ws, int batch) {
    if (!SUPPORTED && !INT8_256) {
      return false;
    }
    for (PackedTernary w : ws) {
      if (usesLut(w, batch) || (INT8_256 && WordLayout.suits(w)) || w.cols() != ws[0].cols() || w.groupSize() != ws[0].groupSize()) {
        return false;
      }
    }
    return true;
  }

  /**
   * The table kernels ({@code lut512}, {@code lut512x4}, {@code lut256}) for matrices that share
   * one table layout (same columns and group size), as one pool job per tile of tokens over the
   * spans of all matrices. Each thread builds the tile's tables itself on its first chunk: that
   * duplicates a few microseconds of work the other thread would spend waiting anyway, and saves
   * the table job's hand-off and the transfer of the tables between cores. Every span computes
   * exactly what it computes alone.
   */
  private static void rowTables(PackedTernary[] ws, MemorySegment q, float[] xScales, int batch, float[][] bias, float[][] y,
      RowPool pool) {
    PackedTernary w0 = ws[0];
    boolean wide = SUPPORTED;
    int cols = w0.cols();
    int tableLen = w0.quadsPerRow() * (wide ? S.length() : S16.length());
    int tile = Math.min(batch, TOKEN_TILE);
    int[] firstSpan = new int[ws.length + 1];
    int minChunk = Integer.MAX_VALUE;
    for (int i = 0; i < ws.length; i++) {
      firstSpan[i + 1] = firstSpan[i] + ws[i].spans();
      minChunk = Math.min(minChunk, TernaryKernels.minSpansPerTask(ws[i]));
    }
    for (int t0 = 0; t0 < batch; t0 += tile) {
      int n = Math.min(tile, batch - t0);
      int first = t0;
      // one bulk copy of the tile's activations instead of a checked segment read per value
      byte[] xs = new byte[n * cols];
      MemorySegment.copy(q, ValueLayout.JAVA_BYTE, (long) first * cols, xs, 0, xs.length);
      Object key = new Object();
      pool.forRange(firstSpan[ws.length], minChunk, (u0, u1) -> {
        short[][] tables = SCRATCH.get().tablesFor(key, w0, xs, n, tableLen, wide);
        int i = 0;
        for (int u = u0; u < u1; u++) {
          while (u >= firstSpan[i + 1]) {
            i++;
          }
          PackedTernary w = ws[i];
          int sp = u - firstSpan[i];
          if (wide && n == TOKEN_TILE) {
            int8Span4(w, tables, sp, xScales, first, bias[i], y[i]);
            continue;
          }
          for (int t = 0; t < n; t++) {
            int token = first + t;
            if (wide) {
              int8Span(w, tables[t], sp, xScales[token], bias[i], y[i], token * w.rows());
            } else {
              int8Span256(w, tables[t], sp, xScales[token], bias[i], y[i], token * w.rows());
            }
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

  /**
   * {@link #int8Span} for the four tokens of a full tile at once (tables {@code tables[0..3]},
   * tokens {@code token0..token0+3}): each 32-row weight vector is loaded, widened and split into
   * its two nibble indices once and looked up in all four tables (two {@code vpermw} each), 4
   * instead of 6 vector instructions per token and quad. Per token the
   * integer sums and the float steps are those of {@link #int8Span}, in the same order: results are
   * the same bit for bit. The chunk's four tables take 32 KiB, within L1.
   */
  private static void int8Span4(PackedTernary w, short[][] tables, int span, float[] xScales, int token0, float[] bias, float[] y) {
    int b0 = span * PackedTernary.SPAN_BLOCKS;
    int b1 = Math.min(w.rowBlocks(), b0 + PackedTernary.SPAN_BLOCKS);
    byte[] nib = w.nibbles();
    float[] bs = w.blockScales();
    int qpr = w.quadsPerRow();
    int qpg = w.quadsPerGroup();
    int groups = w.groupsPerRow();
    int nb = b1 - b0;
    short[] t0 = tables[0];
    short[] t1 = tables[1];
    short[] t2 = tables[2];
    short[] t3 = tables[3];
    // per token: nb * BR int sums, then nb * BR float sums
    int[] accI = new int[TOKEN_TILE * nb * BR];
    float[] accF = new float[TOKEN_TILE * nb * BR];
    int tokenStride = nb * BR;
    short[] red = new short[TOKEN_TILE * BR];
    for (int c0 = 0; c0 < qpr; c0 += PackedTernary.CHUNK_QUADS) {
      int c1 = Math.min(qpr, c0 + PackedTernary.CHUNK_QUADS);
      for (int blk = b0; blk < b1; blk++) {
        int st = (blk - b0) * BR;
        int wBase = w.quadOffset(blk, c0) - c0 * BR;
        int sBase = blk * groups * BR;
        int quad = c0;
        while (quad < c1) {
          int g = quad / qpg;
          int groupEnd = Math.min(qpr, (g + 1) * qpg);
          int stop = Math.min(Math.min(c1, groupEnd), quad + WIDEN_EVERY);
          ShortVector acc0 = ShortVector.zero(S);
          ShortVector acc1 = acc0;
          ShortVector acc2 = acc0;
          ShortVector acc3 = acc0;
          for (; quad < stop; quad++) {
            ShortVector lo = (ShortVector) ByteVector.fromArray(B256, nib, wBase + quad * BR).convertShape(VectorOperators.B2S, S, 0);
            ShortVector hi = lo.lanewise(VectorOperators.LSHR, 4);
            int to = quad * BR;
            ShortVector t;
            t = ShortVector.fromArray(S, t0, to);
            acc0 = acc0.add(lo.selectFrom(t)).sub(hi.selectFrom(t));
            t = ShortVector.fromArray(S, t1, to);
            acc1 = acc1.add(lo.selectFrom(t)).sub(hi.selectFrom(t));
            t = ShortVector.fromArray(S, t2, to);
            acc2 = acc2.add(lo.selectFrom(t)).sub(hi.selectFrom(t));
            t = ShortVector.fromArray(S, t3, to);
            acc3 = acc3.add(lo.selectFrom(t)).sub(hi.selectFrom(t));
          }
          // through memory: a vector handed to a call C2 does not inline is boxed (an allocation)
          acc0.intoArray(red, 0);
          acc1.intoArray(red, BR);
          acc2.intoArray(red, 2 * BR);
          acc3.intoArray(red, 3 * BR);
          boolean flush = quad == groupEnd;
          for (int t = 0; t < TOKEN_TILE; t++) {
            widenInto(red, t * BR, accI, accF, t * tokenStride + st, bs, sBase + g * BR, flush);
          }
        }
      }
    }
    int rows = w.rows();
    for (int t = 0; t < TOKEN_TILE; t++) {
      float xScale = xScales[token0 + t];
      for (int blk = b0; blk < b1; blk++) {
        int st = t * tokenStride + (blk - b0) * BR;
        store(FloatVector.fromArray(F, accF, st).mul(xScale), FloatVector.fromArray(F, accF, st + 16).mul(xScale), blk, rows, bias, y,
            (token0 + t) * rows);
      }
    }
  }

  /**
   * Adds the 32 short sums at {@code red[from..from+31]} to the int sums at {@code
   * accI[at..at+31]}; at a group's end ({@code flush}) adds those times the group's scales to the
   * float sums at {@code accF[at..]} and clears them: the steps of {@link #int8Span}, through memory.
   */
  private static void widenInto(short[] red, int from, int[] accI, float[] accF, int at, float[] bs, int scales, boolean flush) {
    ShortVector acc = ShortVector.fromArray(S, red, from);
    IntVector a0 = IntVector.fromArray(I, accI, at).add((IntVector) acc.convertShape(VectorOperators.S2I, I, 0));
    IntVector a1 = IntVector.fromArray(I, accI, at + 16).add((IntVector) acc.convertShape(VectorOperators.S2I, I, 1));
    if (flush) {
      FloatVector f0 = (FloatVector) a0.convert(VectorOperators.I2F, 0);
      FloatVector f1 = (FloatVector) a1.convert(VectorOperators.I2F, 0);
      FloatVector.fromArray(F, accF, at).add(f0.mul(FloatVector.fromArray(F, bs, scales))).intoArray(accF, at);
      FloatVector.fromArray(F, accF, at + 16).add(f1.mul(FloatVector.fromArray(F, bs, scales + 16))).intoArray(accF, at + 16);
      a0 = IntVector.zero(I);
      a1 = IntVector.zero(I);
    }
    a0.intoArray(accI, at);
    a1.intoArray(accI, at + 16);
  }

  /** {@link #buildShortTables} for 256-bit vectors: the 16 subset sums once, 16 shorts a quad. */
  private static void buildShortTables256(PackedTernary w, byte[] x, int base, short[] tbl, int qa, int qb) {
    VectorMask<Short> m0 = SHORT_SUBSET_16[0];
    VectorMask<Short> m1 = SHORT_SUBSET_16[1];
    VectorMask<Short> m2 = SHORT_SUBSET_16[2];
    VectorMask<Short> m3 = SHORT_SUBSET_16[3];
    ShortVector zero = ShortVector.zero(S16);
    int qpg = w.quadsPerGroup();
    int quad = qa;
    while (quad < qb) {
      int g = quad / qpg;
      int len = w.colsInGroup(g);
      int gEnd = Math.min(qb, g * qpg + w.quadsInGroup(g));
      int fullEnd = Math.min(gEnd, g * qpg + len / 4);
      int c = base + g * w.groupSize() + (quad - g * qpg) * 4;
      for (; quad < fullEnd; quad++, c += 4) {
        zero.add(ShortVector.broadcast(S16, x[c]), m0)
            .add(ShortVector.broadcast(S16, x[c + 1]), m1)
            .add(ShortVector.broadcast(S16, x[c + 2]), m2)
            .add(ShortVector.broadcast(S16, x[c + 3]), m3)
            .intoArray(tbl, quad * 16);
      }
      for (; quad < gEnd; quad++, c += 4) { // ragged last quad of a group: missing activations are 0
        int k = (quad - g * qpg) * 4;
        short x1 = k + 1 < len ? x[c + 1] : 0;
        short x2 = k + 2 < len ? x[c + 2] : 0;
        zero.add(ShortVector.broadcast(S16, x[c]), m0)
            .add(ShortVector.broadcast(S16, x1), m1)
            .add(ShortVector.broadcast(S16, x2), m2)
            .intoArray(tbl, quad * 16);
      }
    }
  }

  /**
   * {@link #int8Span} for 256-bit vectors: the same chunking and operation order per row, with
   * each block's 32 weight bytes split into rows 0-15 and 16-31, both looked up in the same
   * one-vector table. The int and float partial sums go through {@code accI}/{@code accF} at every
   * widening (once per {@value #WIDEN_EVERY} quads), which keeps the register count within AVX2's 16.
   */
  private static void int8Span256(PackedTernary w, short[] tbl, int span, float xScale, float[] bias, float[] y, int yOff) {
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
        int wBase = w.quadOffset(blk, c0) - c0 * BR;
        int sBase = blk * groups * BR;
        int quad = c0;
        while (quad < c1) {
          int g = quad / qpg;
          int groupEnd = Math.min(qpr, (g + 1) * qpg);
          int stop = Math.min(Math.min(c1, groupEnd), quad + WIDEN_EVERY);
          ShortVector lo = ShortVector.zero(S16);
          ShortVector hi = ShortVector.zero(S16);
          for (; quad < stop; quad++) {
            ByteVector b = ByteVector.fromArray(B256, nib, wBase + quad * BR);
            ShortVector i0 = (ShortVector) b.convertShape(VectorOperators.B2S, S16, 0);
            ShortVector i1 = (ShortVector) b.convertShape(VectorOperators.B2S, S16, 1);
            ShortVector t = ShortVector.fromArray(S16, tbl, quad * 16);
            // selectFrom wraps indexes mod 16: the raw byte picks by its +1 nibble, the byte
            // shifted right by 4 by its -1 nibble (sign-extension bits end up above bit 3)
            lo = lo.add(i0.selectFrom(t)).sub(i0.lanewise(VectorOperators.LSHR, 4).selectFrom(t));
            hi = hi.add(i1.selectFrom(t)).sub(i1.lanewise(VectorOperators.LSHR, 4).selectFrom(t));
          }
          widen(lo, accI, st);
          widen(hi, accI, st + 16);
          if (quad == groupEnd) {
            for (int k = 0; k < BR; k += 8) {
              FloatVector f = (FloatVector) IntVector.fromArray(I8, accI, st + k).convert(VectorOperators.I2F, 0);
              FloatVector.fromArray(F8, accF, st + k)
                  .add(f.mul(FloatVector.fromArray(F8, bs, sBase + g * BR + k)))
                  .intoArray(accF, st + k);
              IntVector.zero(I8).intoArray(accI, st + k);
            }
          }
        }
      }
    }
    for (int blk = b0; blk < b1; blk++) {
      int st = (blk - b0) * BR;
      int r0 = blk * BR;
      for (int i = 0; i < BR && r0 + i < w.rows(); i++) {
        float v = accF[st + i] * xScale;
        y[yOff + r0 + i] = bias == null ? v : v + bias[r0 + i];
      }
    }
  }

  /** Adds 16 short sums to the 16 ints at {@code accI[off..off+16)}. */
  private static void widen(ShortVector acc, int[] accI, int off) {
    IntVector.fromArray(I8, accI, off).add((IntVector) acc.convertShape(VectorOperators.S2I, I8, 0)).intoArray(accI, off);
    IntVector.fromArray(I8, accI, off + 8).add((IntVector) acc.convertShape(VectorOperators.S2I, I8, 1)).intoArray(accI, off + 8);
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
    if (!SUPPORTED && !INT8_256) {
      fallback.matmulFloat(w, x, batch, bias, y, pool);
      return;
    }
    boolean wide = SUPPORTED;
    int qpr = w.quadsPerRow();
    int tile = Math.min(batch, TOKEN_TILE);
    int[][] tables = SCRATCH.get().intTables(tile, qpr * 16);
    for (int t0 = 0; t0 < batch; t0 += tile) {
      int n = Math.min(tile, batch - t0);
      int first = t0;
      pool.forRange(qpr, TABLE_QUADS_PER_TASK, (qa, qb) -> {
        for (int t = 0; t < n; t++) {
          if (wide) {
            buildFloatTables(w, x, (first + t) * w.cols(), tables[t], qa, qb);
          } else {
            buildFloatTables256(w, x, (first + t) * w.cols(), tables[t], qa, qb);
          }
        }
      });
      pool.forRange(w.spans(), TernaryKernels.minSpansPerTask(w), (sp0, sp1) -> {
        for (int t = 0; t < n; t++) {
          int token = first + t;
          for (int sp = sp0; sp < sp1; sp++) {
            if (wide) {
              floatSpan(w, tables[t], sp, bias, y, token * w.rows());
            } else {
              floatSpan256(w, tables[t], sp, bias, y, token * w.rows());
            }
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

  /**
   * {@link #buildFloatTables} for 256-bit vectors: entries 0-7 and 8-15 as two 8-lane halves, the
   * second being the first plus x3 (the same additions in the same order as the 16-lane build).
   */
  private static void buildFloatTables256(PackedTernary w, float[] x, int base, int[] tbl, int qa, int qb) {
    VectorMask<Float> m0 = FLOAT_SUBSET_8[0];
    VectorMask<Float> m1 = FLOAT_SUBSET_8[1];
    VectorMask<Float> m2 = FLOAT_SUBSET_8[2];
    FloatVector zero = FloatVector.zero(F8);
    int qpg = w.quadsPerGroup();
    int quad = qa;
    while (quad < qb) {
      int g = quad / qpg;
      int len = w.colsInGroup(g);
      int gEnd = Math.min(qb, g * qpg + w.quadsInGroup(g));
      int c = base + g * w.groupSize() + (quad - g * qpg) * 4;
      for (; quad < gEnd; quad++, c += 4) { // missing activations of a ragged last quad are 0
        int k = (quad - g * qpg) * 4;
        float x1 = k + 1 < len ? x[c + 1] : 0f;
        float x2 = k + 2 < len ? x[c + 2] : 0f;
        float x3 = k + 3 < len ? x[c + 3] : 0f;
        FloatVector lo = zero.add(FloatVector.broadcast(F8, x[c]), m0)
            .add(FloatVector.broadcast(F8, x1), m1)
            .add(FloatVector.broadcast(F8, x2), m2);
        lo.reinterpretAsInts().intoArray(tbl, quad * 16);
        lo.add(x3).reinterpretAsInts().intoArray(tbl, quad * 16 + 8);
      }
    }
  }

  /**
   * Entry {@code idx mod 16} of the 16-entry table {@code t0 ++ t1}. The two-vector {@code
   * selectFrom} is one {@code vpermi2d} with AVX-512VL, and C2 lowers it to two permutes and a blend
   * on AVX2; that measured 5-14x faster than writing the two permutes and the blend out here.
   */
  private static FloatVector lookup16(IntVector idx, IntVector t0, IntVector t1) {
    return idx.selectFrom(t0, t1).reinterpretAsFloats();
  }

  /** {@link #floatSpan} for 256-bit vectors: the same chunking and sums, 8 rows per lookup. */
  private static void floatSpan256(PackedTernary w, int[] tbl, int span, float[] bias, float[] y, int yOff) {
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
        FloatVector a0 = FloatVector.fromArray(F8, accG, st);
        FloatVector a1 = FloatVector.fromArray(F8, accG, st + 8);
        FloatVector a2 = FloatVector.fromArray(F8, accG, st + 16);
        FloatVector a3 = FloatVector.fromArray(F8, accG, st + 24);
        int quad = c0;
        while (quad < c1) {
          int g = quad / qpg;
          int groupEnd = Math.min(qpr, (g + 1) * qpg);
          int stop = Math.min(c1, groupEnd);
          for (; quad < stop; quad++) {
            IntVector t0 = IntVector.fromArray(I8, tbl, quad * 16);
            IntVector t1 = IntVector.fromArray(I8, tbl, quad * 16 + 8);
            int off = wBase + quad * BR;
            IntVector i0 = (IntVector) ByteVector.fromArray(B64, nib, off).convertShape(VectorOperators.B2I, I8, 0);
            IntVector i1 = (IntVector) ByteVector.fromArray(B64, nib, off + 8).convertShape(VectorOperators.B2I, I8, 0);
            IntVector i2 = (IntVector) ByteVector.fromArray(B64, nib, off + 16).convertShape(VectorOperators.B2I, I8, 0);
            IntVector i3 = (IntVector) ByteVector.fromArray(B64, nib, off + 24).convertShape(VectorOperators.B2I, I8, 0);
            a0 = a0.add(lookup16(i0, t0, t1).sub(lookup16(i0.lanewise(VectorOperators.ASHR, 4), t0, t1)));
            a1 = a1.add(lookup16(i1, t0, t1).sub(lookup16(i1.lanewise(VectorOperators.ASHR, 4), t0, t1)));
            a2 = a2.add(lookup16(i2, t0, t1).sub(lookup16(i2.lanewise(VectorOperators.ASHR, 4), t0, t1)));
            a3 = a3.add(lookup16(i3, t0, t1).sub(lookup16(i3.lanewise(VectorOperators.ASHR, 4), t0, t1)));
          }
          if (quad == groupEnd) {
            int o = sBase + g * BR;
            FloatVector.fromArray(F8, accF, st).add(a0.mul(FloatVector.fromArray(F8, bs, o))).intoArray(accF, st);
            FloatVector.fromArray(F8, accF, st + 8).add(a1.mul(FloatVector.fromArray(F8, bs, o + 8))).intoArray(accF, st + 8);
            FloatVector.fromArray(F8, accF, st + 16).add(a2.mul(FloatVector.fromArray(F8, bs, o + 16))).intoArray(accF, st + 16);
            FloatVector.fromArray(F8, accF, st + 24).add(a3.mul(FloatVector.fromArray(F8, bs, o + 24))).intoArray(accF, st + 24);
            a0 = FloatVector.zero(F8);
            a1 = FloatVector.zero(F8);
            a2 = FloatVector.zero(F8);
            a3 = FloatVector.zero(F8);
          }
        }
        a0.intoArray(accG, st);
        a1.intoArray(accG, st + 8);
        a2.intoArray(accG, st + 16);
        a3.intoArray(accG, st + 24);
      }
    }
    for (int blk = b0; blk < b1; blk++) {
      int st = (blk - b0) * BR;
      int r0 = blk * BR;
      for (int i = 0; i < BR && r0 + i < w.rows(); i++) {
        float v = accF[st + i];
        y[yOff + r0 + i] = bias == null ? v : v + bias[r0 + i];
      }
    }
  }

  // ---------------------------------------------------------------- dot

  @Override
  public int dot(byte[] a, byte[] b) {
    int n = a.length;
    // preferred width, so that 256-bit hardware runs native vectors instead of emulated 512-bit ones
    int lanes = BP.length();
    int bound = BP.loopBound(n);
    int total = 0;
    int i = 0;
    while (i < bound) {
      // products are in {-1, 0, 1}: 127 of them fit a byte lane
      int stop = Math.min(bound, i + 127 * lanes);
      ByteVector acc = ByteVector.zero(BP);
      for (; i < stop; i += lanes) {
        acc = acc.add(ByteVector.fromArray(BP, a, i).mul(ByteVector.fromArray(BP, b, i)));
      }
      total += (int) (acc.convertShape(VectorOperators.B2I, IP, 0).reduceLanesToLong(VectorOperators.ADD)
          + acc.convertShape(VectorOperators.B2I, IP, 1).reduceLanesToLong(VectorOperators.ADD)
          + acc.convertShape(VectorOperators.B2I, IP, 2).reduceLanesToLong(VectorOperators.ADD)
          + acc.convertShape(VectorOperators.B2I, IP, 3).reduceLanesToLong(VectorOperators.ADD));
    }
    for (; i < n; i++) {
      total += a[i] * b[i];
    }
    return total;
  }
}
