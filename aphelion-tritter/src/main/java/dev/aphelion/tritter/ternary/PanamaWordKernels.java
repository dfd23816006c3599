package dev.aphelion.tritter.ternary;

import static jdk.incubator.vector.VectorOperators.LSHR;

import dev.aphelion.tritter.kernel.RowPool;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The int8 kernels for 256-bit vectors (AVX2 class) on the {@link WordLayout} arrangement: no table
 * lookups and no 16-bit lane permutations (AVX2 has none: {@code vpermw} is AVX-512BW, and C2
 * emulates a 16-lane short {@code selectFrom} with several instructions).
 *
 * <p>A 16-bit word holds 8 weights as 2-bit codes {@code weight + 1}, one word per 16 columns of
 * a row. Field by field, {@code v & 3} is the code (0, 1 or 2) in every 16-bit lane, and a 32-bit
 * shift right by 2 ({@code vpsrld} with an immediate: C2 has no immediate form for 16-bit shifts
 * and reloads the count at every one; the bits shifted in from the neighbouring lane land above
 * the field and the mask drops them) brings the next field down; one 16-lane {@code vpmullw} with
 * 16 consecutive activations widened to shorts (a memory operand) gives 16 exact products {@code
 * code * x}, one {@code vpaddw} accumulates them: 4 instructions per 16 weights (3 for the first
 * field). Subtracting the segment's activation sum once turns {@code sum(code * x)} into {@code
 * sum(weight * x)}, as llama.cpp's TQ2_0 does. The 16-bit sums of one segment (at most 1024 columns
 * of one group) are at most 16256 in magnitude; they are widened to int and added per row and
 * group, so the integer sums are exact, and the float epilogue (group by group, then the token
 * scale, then the bias) is the scalar reference's: results are bit for bit the same.
 *
 * <p>One to three tokens: each token unpacks the weights inline ({@code span1}). Four tokens or
 * more ({@code spanBatch}): each span's weights are unpacked once per segment into one short per
 * weight (128 KiB for 64 rows, in L2), then tiles of 8 tokens multiply them: one weight load, and
 * per token one {@code vpmullw} with a memory operand and one {@code vpaddw}, per 16 weights. All
 * tokens' activations sit at constant distances ({@link #XS_STRIDE}), so one base register
 * addresses them all.
 */
final class PanamaWordKernels {

  private static final VectorSpecies<Short> S = ShortVector.SPECIES_256;
  private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
  private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
  /**
   * Shorts between the activations of two (segment, token) pairs: a segment's 1024 columns plus 32,
   * a constant so that the multiply loops address every token from one base register, and not a
   * multiple of 4 KiB apart, so that 8 tokens do not fall into the same L1 sets.
   */
  private static final int XS_STRIDE = WordLayout.SEGMENT_BLOCKS * WordLayout.BLOCK_COLS + 32;
  private static final int TILE_WORDS = WordLayout.TILE_ROWS * WordLayout.LANES;

  /** Activations widened to shorts, per calling thread, reused between calls. */
  private static final ThreadLocal<short[][]> XS = ThreadLocal.withInitial(() -> new short[][] {new short[0]});

  /*
   * 3 in 16 lanes, loaded from memory inside the kernels: C2 rematerializes a broadcast constant
   * (a load from the constant pool) at every use instead of keeping it in a register; a vector it
   * loaded itself stays in a register or becomes a memory operand.
   */
  private static final short[] THREES = {3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3};

  /** From this many tokens on, a span's weights are unpacked once per call and shared by all tokens. */
  static final int UNPACK_FROM = 4;

  private PanamaWordKernels() {}

  static void matmulInt8(PackedTernary w, MemorySegment q, float[] xScales, int batch, float[] bias, float[] y, RowPool pool) {
    WordLayout lay = WordLayout.of(w);
    // tokens per pass: the widened activations and the per-(token, row, group) sums stay bounded
    // (about 1 MiB of sums per thread) however large the batch or small the groups
    int perPass = Math.max(8, Math.min(512, (1 << 18) / (WordLayout.SPAN_ROWS * w.groupsPerRow())) & ~7);
    for (int t0 = 0; t0 < batch; t0 += perPass) {
      pass(w, lay, q, xScales, t0, Math.min(perPass, batch - t0), bias, y, pool);
    }
  }

  /** Tokens {@code [t0, t0 + batch)}. */
  private static void pass(PackedTernary w, WordLayout lay, MemorySegment q, float[] xScales, int t0, int batch, float[] bias, float[] y,
      RowPool pool) {
    int cols = w.cols();
    int need = Math.multiplyExact(Math.multiplyExact(lay.segments(), batch), XS_STRIDE);
    short[][] holder = XS.get();
    if (holder[0].length < need) {
      holder[0] = new short[need];
    }
    short[] xs = holder[0];
    int[] xsums = new int[lay.segments() * batch];
    pool.forRange(batch, Math.max(1, (1 << 16) / cols), (ta, tb) -> {
      byte[] row = new byte[cols + B.length()];
      for (int t = ta; t < tb; t++) {
        MemorySegment.copy(q, ValueLayout.JAVA_BYTE, (long) (t0 + t) * cols, row, 0, cols);
        widen(w, lay, row, xs, xsums, batch, t);
      }
    });
    int groups = w.groupsPerRow();
    boolean unpack = batch >= UNPACK_FROM;
    int rows = w.rows();
    pool.forRange(lay.spans(), 1, (sp0, sp1) -> {
      Scratch scratch = SCRATCH.get();
      int[] isum = scratch.ints((unpack ? batch : 1) * WordLayout.SPAN_ROWS * groups);
      short[] fields = unpack ? scratch.shorts(WordLayout.SPAN_ROWS * WordLayout.SEGMENT_BLOCKS * WordLayout.BLOCK_COLS) : null;
      for (int sp = sp0; sp < sp1; sp++) {
        if (!unpack) {
          for (int t = 0; t < batch; t++) {
            Arrays.fill(isum, 0, WordLayout.SPAN_ROWS * groups, 0);
            span1(lay, xs, xsums, batch, t, sp, isum, groups);
            finish(w, sp, isum, 0, xScales[t0 + t], bias, y, (t0 + t) * rows);
          }
        } else {
          Arrays.fill(isum, 0, batch * WordLayout.SPAN_ROWS * groups, 0);
          spanBatch(lay, xs, xsums, sp, batch, isum, groups, fields);
          for (int t = 0; t < batch; t++) {
            finish(w, sp, isum, t * WordLayout.SPAN_ROWS * groups, xScales[t0 + t], bias, y, (t0 + t) * rows);
          }
        }
      }
    });
  }

  /** Per-thread sums and unpacked weights of the span kernels, kept between calls (every entry read is written first). */
  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private static final class Scratch {
    private int[] ints = new int[0];
    private short[] shorts = new short[0];

    int[] ints(int n) {
      if (ints.length < n) {
        ints = new int[n];
      }
      return ints;
    }

    short[] shorts(int n) {
      if (shorts.length < n) {
        shorts = new short[n];
      }
      return shorts;
    }
  }

  /**
   * All tokens, the rows of span {@code sp}, segment by segment: first every row's weights of the
   * segment are unpacked once into {@code fields} (one short per weight, its code 0, 1 or 2: 2 KiB a row,
   * 128 KiB for the span, in L2), then every tile of 8 (then 4, then 1) tokens multiplies them with
   * its activations. The multiply loop is one load of 16 weights and, per token, one multiply with
   * a memory operand and one add: 17 instructions per 128 products, with 9 vector registers, where
   * unpacking inside that loop made C2 spill (it computes all 8 fields of a word before using them).
   */
  private static void spanBatch(WordLayout lay, short[] xs, int[] xsums, int sp, int batch, int[] isum, int groups, short[] fields) {
    short[] wd = lay.words();
    int tiles = lay.tilesInSpan(sp);
    int rowsInSpan = tiles * WordLayout.TILE_ROWS;
    int tokenStride = WordLayout.SPAN_ROWS * groups;
    ShortVector three = ShortVector.fromArray(S, THREES, 0);
    for (int seg = 0; seg < lay.segments(); seg++) {
      int base = lay.segmentBase(sp, seg);
      int nb = lay.segBlocks(seg);
      int segLen = nb * WordLayout.BLOCK_COLS;
      int xb = seg * batch * XS_STRIDE;
      int g = lay.segGroup(seg);
      for (int r = 0; r < rowsInSpan; r++) {
        int off = base + (r / WordLayout.TILE_ROWS) * nb * TILE_WORDS + (r % WordLayout.TILE_ROWS) * WordLayout.LANES;
        int fo = r * segLen;
        for (int k = 0; k < nb; k++) {
          ShortVector v = ShortVector.fromArray(S, wd, off + k * TILE_WORDS);
          int o = fo + k * WordLayout.BLOCK_COLS;
          v.and(three).intoArray(fields, o + 0);
          v = v.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v.and(three).intoArray(fields, o + 16);
          v = v.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v.and(three).intoArray(fields, o + 32);
          v = v.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v.and(three).intoArray(fields, o + 48);
          v = v.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v.and(three).intoArray(fields, o + 64);
          v = v.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v.and(three).intoArray(fields, o + 80);
          v = v.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v.and(three).intoArray(fields, o + 96);
          v = v.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v.and(three).intoArray(fields, o + 112);
        }
      }
      int t = 0;
      for (; t + 8 <= batch; t += 8) {
        times8(fields, rowsInSpan, segLen, xs, xb + t * XS_STRIDE, isum, t * tokenStride + g, groups, tokenStride, xsums, seg * batch + t);
      }
      for (; t + 4 <= batch; t += 4) {
        times4(fields, rowsInSpan, segLen, xs, xb + t * XS_STRIDE, isum, t * tokenStride + g, groups, tokenStride, xsums, seg * batch + t);
      }
      for (; t < batch; t++) {
        times1(fields, rowsInSpan, segLen, xs, xb + t * XS_STRIDE, isum, t * tokenStride + g, groups, xsums[seg * batch + t]);
      }
    }
  }

  /** Unpacked weights of {@code rows} rows ({@code len} each) times 8 tokens' activations, sums into {@code isum}. */
  private static void times8(short[] f, int rows, int len, short[] xs, int x0, int[] isum, int is, int groups, int tokenStride, int[] xsums, int xsum0) {
    for (int r = 0; r < rows; r++) {
      int fo = r * len;
      ShortVector a0 = ShortVector.zero(S);
      ShortVector a1 = a0;
      ShortVector a2 = a0;
      ShortVector a3 = a0;
      ShortVector a4 = a0;
      ShortVector a5 = a0;
      ShortVector a6 = a0;
      ShortVector a7 = a0;
      for (int i = 0; i < len; i += WordLayout.LANES) {
        ShortVector w = ShortVector.fromArray(S, f, fo + i);
        a0 = a0.add(ShortVector.fromArray(S, xs, x0 + i).mul(w));
        a1 = a1.add(ShortVector.fromArray(S, xs, x0 + 1 * XS_STRIDE + i).mul(w));
        a2 = a2.add(ShortVector.fromArray(S, xs, x0 + 2 * XS_STRIDE + i).mul(w));
        a3 = a3.add(ShortVector.fromArray(S, xs, x0 + 3 * XS_STRIDE + i).mul(w));
        a4 = a4.add(ShortVector.fromArray(S, xs, x0 + 4 * XS_STRIDE + i).mul(w));
        a5 = a5.add(ShortVector.fromArray(S, xs, x0 + 5 * XS_STRIDE + i).mul(w));
        a6 = a6.add(ShortVector.fromArray(S, xs, x0 + 6 * XS_STRIDE + i).mul(w));
        a7 = a7.add(ShortVector.fromArray(S, xs, x0 + 7 * XS_STRIDE + i).mul(w));
      }
      int o = is + r * groups;
      isum[o] += sum(a0) - xsums[xsum0];
      isum[o + tokenStride] += sum(a1) - xsums[xsum0 + 1];
      isum[o + 2 * tokenStride] += sum(a2) - xsums[xsum0 + 2];
      isum[o + 3 * tokenStride] += sum(a3) - xsums[xsum0 + 3];
      isum[o + 4 * tokenStride] += sum(a4) - xsums[xsum0 + 4];
      isum[o + 5 * tokenStride] += sum(a5) - xsums[xsum0 + 5];
      isum[o + 6 * tokenStride] += sum(a6) - xsums[xsum0 + 6];
      isum[o + 7 * tokenStride] += sum(a7) - xsums[xsum0 + 7];
    }
  }

  /** {@link #times8} for 4 tokens. */
  private static void times4(short[] f, int rows, int len, short[] xs, int x0, int[] isum, int is, int groups, int tokenStride, int[] xsums, int xsum0) {
    for (int r = 0; r < rows; r++) {
      int fo = r * len;
      ShortVector a0 = ShortVector.zero(S);
      ShortVector a1 = a0;
      ShortVector a2 = a0;
      ShortVector a3 = a0;
      for (int i = 0; i < len; i += WordLayout.LANES) {
        ShortVector w = ShortVector.fromArray(S, f, fo + i);
        a0 = a0.add(ShortVector.fromArray(S, xs, x0 + i).mul(w));
        a1 = a1.add(ShortVector.fromArray(S, xs, x0 + 1 * XS_STRIDE + i).mul(w));
        a2 = a2.add(ShortVector.fromArray(S, xs, x0 + 2 * XS_STRIDE + i).mul(w));
        a3 = a3.add(ShortVector.fromArray(S, xs, x0 + 3 * XS_STRIDE + i).mul(w));
      }
      int o = is + r * groups;
      isum[o] += sum(a0) - xsums[xsum0];
      isum[o + tokenStride] += sum(a1) - xsums[xsum0 + 1];
      isum[o + 2 * tokenStride] += sum(a2) - xsums[xsum0 + 2];
      isum[o + 3 * tokenStride] += sum(a3) - xsums[xsum0 + 3];
    }
  }

  /** {@link #times8} for one token. */
  private static void times1(short[] f, int rows, int len, short[] xs, int x0, int[] isum, int is, int groups, int xsum) {
    for (int r = 0; r < rows; r++) {
      int fo = r * len;
      ShortVector a0 = ShortVector.zero(S);
      for (int i = 0; i < len; i += WordLayout.LANES) {
        a0 = a0.add(ShortVector.fromArray(S, xs, x0 + i).mul(ShortVector.fromArray(S, f, fo + i)));
      }
      isum[is + r * groups] += sum(a0) - xsum;
    }
  }

  /**
   * Token {@code t} (int8, {@code cols} values plus slack in {@code row}) into {@code xs}, segment by
   * segment at {@code (seg * batch + t) * XS_STRIDE}, the padding columns of a segment set to 0, and
   * the sum of each segment's activations into {@code xsums[seg * batch + t]}.
   */
  private static void widen(PackedTernary w, WordLayout lay, byte[] row, short[] xs, int[] xsums, int batch, int t) {
    for (int seg = 0; seg < lay.segments(); seg++) {
      int g = lay.segGroup(seg);
      int within = lay.segBlock0(seg) * WordLayout.BLOCK_COLS - lay.groupCol0(g);
      int segLen = lay.segBlocks(seg) * WordLayout.BLOCK_COLS;
      int len = Math.min(segLen, w.colsInGroup(g) - within);
      int src = g * w.groupSize() + within;
      int dst = (seg * batch + t) * XS_STRIDE;
      int sum = 0;
      int c = 0;
      for (; c + B.length() <= len; c += B.length()) {
        ShortVector v = (ShortVector) ByteVector.fromArray(B, row, src + c).convertShape(VectorOperators.B2S, S, 0);
        v.intoArray(xs, dst + c);
        sum += (int) v.reduceLanesToLong(VectorOperators.ADD);
      }
      for (; c < len; c++) {
        xs[dst + c] = row[src + c];
        sum += row[src + c];
      }
      Arrays.fill(xs, dst + len, dst + segLen, (short) 0);
      xsums[seg * batch + t] = sum;
    }
  }

  /** {@code y} of one token for the rows of span {@code sp}, from its integer sums per row and group. */
  private static void finish(PackedTernary w, int sp, int[] isum, int isOff, float xScale, float[] bias, float[] y, int yOff) {
    int groups = w.groupsPerRow();
    float[] bs = w.blockScales();
    int r0 = sp * WordLayout.SPAN_ROWS;
    int r1 = Math.min(w.rows(), r0 + WordLayout.SPAN_ROWS);
    for (int r = r0; r < r1; r++) {
      int sBase = (r / PackedTernary.BLOCK_ROWS) * groups * PackedTernary.BLOCK_ROWS + r % PackedTernary.BLOCK_ROWS;
      int is = isOff + (r - r0) * groups;
      float s = 0f;
      for (int g = 0; g < groups; g++) {
        s += (float) isum[is + g] * bs[sBase + g * PackedTernary.BLOCK_ROWS];
      }
      float v = s * xScale;
      y[yOff + r] = bias == null ? v : v + bias[r];
    }
  }

  /** Sum of the 16 lanes, as int (16 lanes of up to 16256 in magnitude). */
  private static int sum(ShortVector a) {
    IntVector lo = (IntVector) a.convertShape(VectorOperators.S2I, I, 0);
    IntVector hi = (IntVector) a.convertShape(VectorOperators.S2I, I, 1);
    return lo.add(hi).reduceLanes(VectorOperators.ADD);
  }

  /**
   * One token, the rows of span {@code sp}, segment by segment, a tile of four rows at a time (four
   * independent shift chains and sums, each activation load shared by four rows; measured 5-20%
   * faster than one or two rows per pass): integer sums per (row, group) added into {@code
   * isum[row * groups + group]}.
   */
  private static void span1(WordLayout lay, short[] xs, int[] xsums, int batch, int token, int sp, int[] isum, int groups) {
    short[] wd = lay.words();
    int tiles = lay.tilesInSpan(sp);
    ShortVector three = ShortVector.fromArray(S, THREES, 0);
    for (int seg = 0; seg < lay.segments(); seg++) {
      int base = lay.segmentBase(sp, seg);
      int nb = lay.segBlocks(seg);
      int xb = (seg * batch + token) * XS_STRIDE;
      int xsum = xsums[seg * batch + token];
      int g = lay.segGroup(seg);
      for (int tile = 0; tile < tiles; tile++) {
        int off = base + tile * nb * TILE_WORDS;
        ShortVector a0 = ShortVector.zero(S);
        ShortVector a1 = a0;
        ShortVector a2 = a0;
        ShortVector a3 = a0;
        for (int k = 0; k < nb; k++) {
          int xo = xb + k * WordLayout.BLOCK_COLS;
          int o = off + k * TILE_WORDS;
          ShortVector v0 = ShortVector.fromArray(S, wd, o);
          ShortVector v1 = ShortVector.fromArray(S, wd, o + 16);
          ShortVector v2 = ShortVector.fromArray(S, wd, o + 32);
          ShortVector v3 = ShortVector.fromArray(S, wd, o + 48);
          ShortVector x;
          x = ShortVector.fromArray(S, xs, xo + 0);
          a0 = a0.add(x.mul(v0.and(three)));
          a1 = a1.add(x.mul(v1.and(three)));
          a2 = a2.add(x.mul(v2.and(three)));
          a3 = a3.add(x.mul(v3.and(three)));
          v0 = v0.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v1 = v1.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v2 = v2.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v3 = v3.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          x = ShortVector.fromArray(S, xs, xo + 16);
          a0 = a0.add(x.mul(v0.and(three)));
          a1 = a1.add(x.mul(v1.and(three)));
          a2 = a2.add(x.mul(v2.and(three)));
          a3 = a3.add(x.mul(v3.and(three)));
          v0 = v0.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v1 = v1.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v2 = v2.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v3 = v3.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          x = ShortVector.fromArray(S, xs, xo + 32);
          a0 = a0.add(x.mul(v0.and(three)));
          a1 = a1.add(x.mul(v1.and(three)));
          a2 = a2.add(x.mul(v2.and(three)));
          a3 = a3.add(x.mul(v3.and(three)));
          v0 = v0.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v1 = v1.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v2 = v2.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v3 = v3.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          x = ShortVector.fromArray(S, xs, xo + 48);
          a0 = a0.add(x.mul(v0.and(three)));
          a1 = a1.add(x.mul(v1.and(three)));
          a2 = a2.add(x.mul(v2.and(three)));
          a3 = a3.add(x.mul(v3.and(three)));
          v0 = v0.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v1 = v1.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v2 = v2.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v3 = v3.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          x = ShortVector.fromArray(S, xs, xo + 64);
          a0 = a0.add(x.mul(v0.and(three)));
          a1 = a1.add(x.mul(v1.and(three)));
          a2 = a2.add(x.mul(v2.and(three)));
          a3 = a3.add(x.mul(v3.and(three)));
          v0 = v0.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v1 = v1.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v2 = v2.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v3 = v3.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          x = ShortVector.fromArray(S, xs, xo + 80);
          a0 = a0.add(x.mul(v0.and(three)));
          a1 = a1.add(x.mul(v1.and(three)));
          a2 = a2.add(x.mul(v2.and(three)));
          a3 = a3.add(x.mul(v3.and(three)));
          v0 = v0.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v1 = v1.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v2 = v2.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v3 = v3.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          x = ShortVector.fromArray(S, xs, xo + 96);
          a0 = a0.add(x.mul(v0.and(three)));
          a1 = a1.add(x.mul(v1.and(three)));
          a2 = a2.add(x.mul(v2.and(three)));
          a3 = a3.add(x.mul(v3.and(three)));
          v0 = v0.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v1 = v1.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v2 = v2.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          v3 = v3.reinterpretAsInts().lanewise(LSHR, 2).reinterpretAsShorts();
          x = ShortVector.fromArray(S, xs, xo + 112);
          a0 = a0.add(x.mul(v0.and(three)));
          a1 = a1.add(x.mul(v1.and(three)));
          a2 = a2.add(x.mul(v2.and(three)));
          a3 = a3.add(x.mul(v3.and(three)));
        }
        int is = tile * WordLayout.TILE_ROWS * groups + g;
        isum[is] += sum(a0) - xsum;
        isum[is + groups] += sum(a1) - xsum;
        isum[is + 2 * groups] += sum(a2) - xsum;
        isum[is + 3 * groups] += sum(a3) - xsum;
      }
    }
  }
}
