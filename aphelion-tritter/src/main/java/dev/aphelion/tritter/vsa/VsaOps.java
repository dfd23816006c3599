package dev.aphelion.tritter.vsa;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.kernel.Vectorization;
import java.lang.invoke.MethodHandles;
import java.util.List;
import java.util.Objects;

/**
 * Vector-symbolic (hyperdimensional) operations on {@link TritVector}s.
 *
 * <p><b>Algebra.</b> Binding is the balanced modular difference {@code bind(a, b) = (a - b) mod 3}
 * per dimension, with residues written as {@code -1, 0, +1} (the trit-vsa CPU convention). Its
 * exact inverse is {@code unbind(c, b) = (c + b) mod 3}: {@code unbind(bind(a, b), b) == a} for
 * every {@code a} and every key {@code b}, including keys with zeros (unlike the element-wise
 * product, which loses information wherever the key is 0). Binding is not commutative: {@code
 * bind(a, b) = -bind(b, a)}. Bundling is the per-dimension majority (the sign of the sum of the
 * trits, 0 on ties); {@code permute} is a cyclic shift. Similarities: {@code dot} (integer), {@code
 * cosine = dot / (sqrt(nnz(a)) sqrt(nnz(b)))} (0 when either vector is all-zero) and {@code
 * hamming} (number of differing dimensions).
 *
 * <p>Kernels run on the Vector API or on the scalar reference, chosen by {@link Vectorization};
 * both give bit-identical results. Instances are immutable and thread-safe.
 */
public final class VsaOps {
  private static final class Default {
    static final VsaOps INSTANCE = new VsaOps(Vectorization.get());
  }

  private final VsaKernels kernels;

  private VsaOps(Vectorization vectorization) {
    this.kernels = vectorization.select(VsaKernels.class, ScalarVsaKernels::new, MethodHandles.lookup(), "PanamaVsaKernels");
  }

  /** The operations on the process-wide kernel choice ({@link Vectorization#get()}). */
  public static VsaOps get() {
    Vectorization.get(); // a bad -Daphelion.kernels is a ConfigException here, not a failed class init
    return Default.INSTANCE;
  }

  /**
   * The operations on a given kernel path (tests and benchmarks compare both).
   *
   * @param vectorization the path
   * @return the operations
   */
  public static VsaOps with(Vectorization vectorization) {
    return new VsaOps(Objects.requireNonNull(vectorization, "vectorization"));
  }

  /**
   * Binds {@code a} with key {@code b}: {@code (a - b) mod 3} per dimension (balanced residues).
   *
   * @param a the value
   * @param b the key
   * @return the bound vector
   * @throws ShapeException if the dimensions differ
   */
  public TritVector bind(TritVector a, TritVector b) {
    int d = sameDimension(a, b);
    long[] p = new long[a.plusWords().length], m = new long[p.length];
    kernels.bind(a.plusWords(), a.minusWords(), b.plusWords(), b.minusWords(), p, m, p.length);
    return TritVector.wrap(d, p, m);
  }

  /**
   * Unbinds key {@code b} from {@code c}: {@code (c + b) mod 3}, so {@code unbind(bind(a, b), b) == a}.
   *
   * @param c the bound vector
   * @param b the key
   * @return the recovered value
   * @throws ShapeException if the dimensions differ
   */
  public TritVector unbind(TritVector c, TritVector b) {
    int d = sameDimension(c, b);
    long[] p = new long[c.plusWords().length], m = new long[p.length];
    kernels.unbind(c.plusWords(), c.minusWords(), b.plusWords(), b.minusWords(), p, m, p.length);
    return TritVector.wrap(d, p, m);
  }

  /**
   * The per-dimension majority of the vectors: the sign of the sum, 0 on ties.
   *
   * @param vectors one or more vectors of one dimension
   * @return the bundle
   * @throws ShapeException if the list is empty or dimensions differ
   */
  public TritVector bundle(List<TritVector> vectors) {
    Objects.requireNonNull(vectors, "vectors");
    if (vectors.isEmpty()) {
      throw new ShapeException("bundle needs at least one vector");
    }
    int d = vectors.get(0).dimension();
    long[][] plus = new long[vectors.size()][];
    long[][] minus = new long[vectors.size()][];
    for (int i = 0; i < plus.length; i++) {
      TritVector v = Objects.requireNonNull(vectors.get(i), "vector");
      if (v.dimension() != d) {
        throw new ShapeException("bundle: vector " + i + " has dimension " + v.dimension() + ", expected " + d);
      }
      plus[i] = v.plusWords();
      minus[i] = v.minusWords();
    }
    long[] p = new long[TritVector.wordsFor(d)], m = new long[p.length];
    kernels.bundle(plus, minus, p, m, p.length);
    return TritVector.wrap(d, p, m);
  }

  /**
   * The per-dimension majority of the vectors; see {@link #bundle(List)}.
   *
   * @param vectors one or more vectors of one dimension
   * @return the bundle
   */
  public TritVector bundle(TritVector... vectors) {
    return bundle(List.of(vectors));
  }

  /**
   * Cyclic shift: trit {@code i} of the input becomes trit {@code (i + shift) mod dimension}.
   * Negative shifts rotate the other way; {@code permute(permute(v, s), -s) == v}.
   *
   * @param v the vector
   * @param shift the shift, any value
   * @return the shifted vector
   */
  public TritVector permute(TritVector v, long shift) {
    int d = v.dimension();
    int s = (int) Math.floorMod(shift, (long) d);
    if (s == 0) {
      return v;
    }
    long[] p = new long[v.plusWords().length], m = new long[p.length];
    // [0, d-s) moves to [s, d), [d-s, d) moves to [0, s)
    copyBits(v.plusWords(), 0, p, s, d - s);
    copyBits(v.plusWords(), d - s, p, 0, s);
    copyBits(v.minusWords(), 0, m, s, d - s);
    copyBits(v.minusWords(), d - s, m, 0, s);
    return TritVector.wrap(d, p, m);
  }

  /**
   * The integer dot product.
   *
   * @param a first vector
   * @param b second vector
   * @return {@code Σ a_i b_i}
   */
  public long dot(TritVector a, TritVector b) {
    sameDimension(a, b);
    return kernels.dot(a.plusWords(), a.minusWords(), b.plusWords(), b.minusWords(), a.plusWords().length);
  }

  /**
   * Cosine similarity {@code dot / (sqrt(nnz(a)) sqrt(nnz(b)))}, 0 when either vector is all-zero.
   *
   * @param a first vector
   * @param b second vector
   * @return a value in [-1, 1]
   */
  public double cosine(TritVector a, TritVector b) {
    long dot = dot(a, b);
    long na = nonZeroCount(a), nb = nonZeroCount(b);
    return na == 0 || nb == 0 ? 0.0 : dot / (Math.sqrt(na) * Math.sqrt(nb));
  }

  /**
   * The number of dimensions in which the trits differ.
   *
   * @param a first vector
   * @param b second vector
   * @return the Hamming distance
   */
  public long hamming(TritVector a, TritVector b) {
    sameDimension(a, b);
    return kernels.hamming(a.plusWords(), a.minusWords(), b.plusWords(), b.minusWords(), a.plusWords().length);
  }

  /**
   * The number of non-zero trits.
   *
   * @param v the vector
   * @return the count
   */
  public long nonZeroCount(TritVector v) {
    return kernels.nonZeroCount(v.plusWords(), v.minusWords(), v.plusWords().length);
  }

  private static int sameDimension(TritVector a, TritVector b) {
    Objects.requireNonNull(a, "a");
    Objects.requireNonNull(b, "b");
    if (a.dimension() != b.dimension()) {
      throw new ShapeException("dimension mismatch: " + a.dimension() + " vs " + b.dimension());
    }
    return a.dimension();
  }

  /** Copies {@code len} bits from {@code src} at {@code srcPos} into zeroed {@code dst} at {@code dstPos}. */
  static void copyBits(long[] src, int srcPos, long[] dst, int dstPos, int len) {
    int done = 0;
    while (done < len) {
      int sp = srcPos + done, dp = dstPos + done;
      int n = Math.min(64 - (dp & 63), len - done);
      long bits = readBits(src, sp, n);
      dst[dp >>> 6] |= bits << (dp & 63);
      done += n;
    }
  }

  /** Reads {@code n} (1..64) bits starting at bit {@code pos}, low bits first. */
  private static long readBits(long[] src, int pos, int n) {
    int w = pos >>> 6, o = pos & 63;
    long v = src[w] >>> o;
    if (o != 0 && o + n > 64) {
      v |= src[w + 1] << (64 - o);
    }
    return n == 64 ? v : v & ((1L << n) - 1);
  }
}
