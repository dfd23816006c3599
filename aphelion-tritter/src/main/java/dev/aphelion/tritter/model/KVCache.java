package dev.aphelion.tritter.model;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.nn.FloatKernels;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Keys and values of past tokens for autoregressive decoding, preallocated for every layer,
 * sequence and KV head.
 *
 * <p>Layout: per layer one flat array {@code [sequence][kvHead][slot][headDim]}, so the keys of one
 * head are contiguous and attention streams through them. Appending a token writes only that
 * token's {@code kvHeads·headDim} keys and values ({@link #put}); nothing is ever concatenated or
 * copied again (the Rust original re-concatenated the whole cache on every call).
 *
 * <p>Positions are absolute token indices of a sequence; the slot of position {@code p} is {@code p
 * mod capacity}. Under {@link EvictionPolicy#ERROR} a sequence holds at most {@code capacity}
 * tokens and a further append throws; under {@link EvictionPolicy#SLIDING_WINDOW} the oldest token
 * is overwritten, so attention sees the last {@code capacity} tokens. Keys are stored after rotary
 * embedding, so eviction needs no re-rotation.
 *
 * <p>With {@link Storage#INT8} each (token, head) vector is stored as int8 with its own scale
 * {@code s = max|x|/127} and rounding half away from zero, so every stored element is within
 * {@code s/2 = max|x|/254} of the original: a relative error of at most 1/254 of the vector's
 * largest magnitude. Memory drops to about a quarter.
 *
 * <p>A cache serves {@code sequences} independent sequences (a batch); each has its own length and
 * is reset on its own. Writes to different (layer, sequence) pairs may run concurrently; writes and
 * reads of the same pair must be ordered by the caller. {@link DecoderModel} claims each sequence
 * of a step for its duration: a second thread stepping the same sequence meanwhile gets a {@link
 * java.util.ConcurrentModificationException} instead of interleaving its tokens.
 *
 * <p>The cache tracks, per (layer, sequence), which positions hold stored tokens. {@link #attend}
 * and {@link #read} throw a {@link ShapeException} rather than read a slot that was never written
 * since the last {@link #reset}, was overwritten by the sliding window, or lies beyond the newest
 * {@link #put}. Positions are bounded by {@link Integer#MAX_VALUE}; a sliding-window sequence that
 * reaches it must be reset.
 */
public final class KVCache {

  /** What happens when a sequence's cache is full. */
  public enum EvictionPolicy {
    /** Appending beyond the capacity throws a {@link ShapeException}. */
    ERROR,
    /** The oldest token is overwritten: attention covers the last {@code capacity} tokens. */
    SLIDING_WINDOW
  }

  /** How keys and values are stored. */
  public enum Storage {
    /** 32-bit floats, exact. */
    FLOAT32,
    /** int8 with one f32 scale per (token, head); error at most {@code max|x|/254} per element. */
    INT8
  }

  private final int layers;
  private final int sequences;
  private final int kvHeads;
  private final int headDim;
  private final int capacity;
  private final EvictionPolicy policy;
  private final Storage storage;
  private final FloatKernels ops;

  private final float[][] keys;
  private final float[][] values;
  private final byte[][] keysQ;
  private final byte[][] valuesQ;
  private final float[][] keyScales;
  private final float[][] valueScales;
  private final int[] positions;
  // Per layer and sequence: stored tokens are the positions [max(lo, hi - capacity), hi).
  private final int[][] lo;
  private final int[][] hi;
  // The thread inside a DecoderModel step on each sequence, or null.
  private final AtomicReferenceArray<Thread> users;

  private KVCache(Builder b) {
    this.layers = b.layers;
    this.sequences = b.sequences;
    this.kvHeads = b.kvHeads;
    this.headDim = b.headDim;
    this.capacity = b.capacity;
    this.policy = b.policy;
    this.storage = b.storage;
    this.ops = b.kernels != null ? b.kernels : FloatKernels.get();
    long perLayer = (long) sequences * kvHeads * capacity * headDim;
    if (perLayer > Integer.MAX_VALUE - 8) {
      throw new ConfigException("KV cache layer of " + perLayer + " elements (sequences*kvHeads*capacity*headDim) is too large; lower the capacity or batch");
    }
    int n = (int) perLayer;
    int scales = sequences * kvHeads * capacity;
    if (storage == Storage.FLOAT32) {
      keys = new float[layers][n];
      values = new float[layers][n];
      keysQ = valuesQ = null;
      keyScales = valueScales = null;
    } else {
      keys = values = null;
      keysQ = new byte[layers][n];
      valuesQ = new byte[layers][n];
      keyScales = new float[layers][scales];
      valueScales = new float[layers][scales];
    }
    positions = new int[sequences];
    lo = new int[layers][sequences];
    hi = new int[layers][sequences];
    users = new AtomicReferenceArray<>(sequences);
  }

  /**
   * Claims the distinct sequences of {@code seqs} for the calling thread until {@link #release}.
   *
   * @return the claimed sequences (those not already held by this thread)
   * @throws java.util.ConcurrentModificationException if another thread holds one
   */
  int[] claim(int[] seqs) {
    Thread me = Thread.currentThread();
    int[] claimed = new int[seqs.length];
    int n = 0;
    for (int s : seqs) {
      Thread other = users.compareAndExchange(checkSeq(s), null, me);
      if (other == null) {
        claimed[n++] = s;
      } else if (other != me) {
        release(Arrays.copyOf(claimed, n));
        throw new java.util.ConcurrentModificationException("KV cache sequence " + s + " is being stepped by thread '"
            + other.getName() + "' while thread '" + me.getName() + "' steps it too; a sequence takes one step at a time");
      }
    }
    return Arrays.copyOf(claimed, n);
  }

  /** Releases what {@link #claim} returned. */
  void release(int[] claimed) {
    for (int s : claimed) {
      users.set(s, null);
    }
  }

  /** Starts a builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** Number of layers. */
  public int layers() {
    return layers;
  }

  /** Number of independent sequences (the batch size). */
  public int sequences() {
    return sequences;
  }

  /** Number of key/value heads per layer. */
  public int kvHeads() {
    return kvHeads;
  }

  /** Elements per head vector. */
  public int headDim() {
    return headDim;
  }

  /** Tokens each sequence can hold (or the window length under {@link EvictionPolicy#SLIDING_WINDOW}). */
  public int capacity() {
    return capacity;
  }

  /** The eviction policy. */
  public EvictionPolicy policy() {
    return policy;
  }

  /** The storage format. */
  public Storage storage() {
    return storage;
  }

  /**
   * The number of tokens appended to a sequence since its last reset, which is also the position
   * of its next token.
   */
  public int position(int seq) {
    return positions[checkSeq(seq)];
  }

  /** How many tokens of a sequence attention currently sees: {@code min(position, capacity)}. */
  public int visible(int seq) {
    return Math.min(positions[checkSeq(seq)], capacity);
  }

  /**
   * Checks that {@code n} more tokens fit into a sequence.
   *
   * @throws ShapeException under {@link EvictionPolicy#ERROR} when they do not fit
   */
  public void ensureRoom(int seq, int n) {
    checkSeq(seq);
    if (n < 0) {
      throw new IllegalArgumentException("n must be >= 0, got " + n);
    }
    if ((long) positions[seq] + n > Integer.MAX_VALUE) {
      throw new ShapeException("KV cache position overflow: sequence " + seq + " at position " + positions[seq]
          + " cannot take " + n + " more tokens (positions end at Integer.MAX_VALUE; reset the sequence)");
    }
    if (policy == EvictionPolicy.ERROR && (long) positions[seq] + n > capacity) {
      throw new ShapeException("KV cache full: sequence " + seq + " holds " + positions[seq] + " of " + capacity
          + " tokens and cannot take " + n + " more (policy ERROR; use SLIDING_WINDOW or a larger capacity)");
    }
  }

  /**
   * Stores the keys and values of one token for one layer: {@code kvHeads·headDim} floats each,
   * head-major. Copies exactly that many values.
   *
   * @param layer the layer
   * @param seq the sequence
   * @param position the token's absolute position, at least {@link #position(int)}
   * @param k the keys (already rotated)
   * @param kOff offset of the first key
   * @param v the values
   * @param vOff offset of the first value
   * @throws ShapeException if the position does not fit under {@link EvictionPolicy#ERROR}, or
   *     {@code k} or {@code v} is too short
   */
  public void put(int layer, int seq, int position, float[] k, int kOff, float[] v, int vOff) {
    checkLayer(layer);
    checkPosition(seq, position);
    int slot = position % capacity;
    int width = kvHeads * headDim;
    checkRange("keys", k, kOff, width);
    checkRange("values", v, vOff, width);
    record(layer, seq, position);
    for (int h = 0; h < kvHeads; h++) {
      int base = headBase(seq, h) + slot * headDim;
      int src = h * headDim;
      if (storage == Storage.FLOAT32) {
        System.arraycopy(k, kOff + src, keys[layer], base, headDim);
        System.arraycopy(v, vOff + src, values[layer], base, headDim);
      } else {
        int si = scaleIndex(seq, h, slot);
        keyScales[layer][si] = quantize(k, kOff + src, keysQ[layer], base, headDim);
        valueScales[layer][si] = quantize(v, vOff + src, valuesQ[layer], base, headDim);
      }
    }
  }

  /**
   * Causal attention of one query head over the cached keys and values of a sequence:
   * {@code out = softmax(scale · q·Kᵀ) · V} over the tokens at positions {@code max(0,
   * position-capacity+1) .. position}, which must already be stored for this layer.
   *
   * @param layer the layer
   * @param seq the sequence
   * @param position the position of the querying token
   * @param kvHead the KV head the query head reads (query head / group size)
   * @param q the query vector
   * @param qOff offset of the query vector ({@code headDim} elements)
   * @param scale the score scale, normally {@code 1/sqrt(headDim)}
   * @param out receives {@code headDim} values (overwritten)
   * @param outOff offset into {@code out}
   * @param scores scratch space of at least {@link #capacity()} floats
   * @throws ShapeException if a token attention would read is not stored for this layer (never
   *     put since the last reset, beyond the newest put, or overwritten by the sliding window), or
   *     {@code q}, {@code out} or {@code scores} is too short
   */
  public void attend(int layer, int seq, int position, int kvHead, float[] q, int qOff, float scale, float[] out, int outOff, float[] scores) {
    checkLayer(layer);
    checkSeq(seq);
    Objects.checkIndex(kvHead, kvHeads);
    if (position < 0) {
      throw new IllegalArgumentException("position must be >= 0, got " + position);
    }
    checkStored(layer, seq, Math.max(0, position - capacity + 1), position, "attend");
    checkRange("query", q, qOff, headDim);
    checkRange("output", out, outOff, headDim);
    int n = Math.min(position + 1, capacity);
    if (scores.length < n) {
      throw new ShapeException("scores scratch has " + scores.length + " floats, needs " + n);
    }
    // With position+1 <= capacity the tokens sit in slots 0..position; otherwise every slot holds
    // one of the last `capacity` tokens. Softmax does not care about the order.
    int base = headBase(seq, kvHead);
    int sBase = scaleIndex(seq, kvHead, 0);
    float max = Float.NEGATIVE_INFINITY;
    for (int t = 0; t < n; t++) {
      float s = storage == Storage.FLOAT32
          ? ops.dot(q, qOff, keys[layer], base + t * headDim, headDim)
          : ops.dotInt8(keysQ[layer], base + t * headDim, q, qOff, headDim) * keyScales[layer][sBase + t];
      s *= scale;
      scores[t] = s;
      max = Math.max(max, s);
    }
    float sum = 0f;
    for (int t = 0; t < n; t++) {
      float e = (float) Math.exp(scores[t] - max);
      scores[t] = e;
      sum += e;
    }
    Arrays.fill(out, outOff, outOff + headDim, 0f);
    float inv = 1f / sum;
    for (int t = 0; t < n; t++) {
      float p = scores[t] * inv;
      if (storage == Storage.FLOAT32) {
        ops.axpy(p, values[layer], base + t * headDim, out, outOff, headDim);
      } else {
        ops.axpyInt8(p * valueScales[layer][sBase + t], valuesQ[layer], base + t * headDim, out, outOff, headDim);
      }
    }
  }

  /**
   * Reads back the stored (dequantized) key or value vector of one head at a position.
   *
   * @param layer the layer
   * @param seq the sequence
   * @param position an absolute position still held in the cache
   * @param kvHead the head
   * @param value {@code false} for the key, {@code true} for the value
   * @param out receives {@code headDim} floats at offset 0
   * @throws IllegalArgumentException if the position is not committed or no longer held
   * @throws ShapeException if the position was not stored for this layer, or {@code out} is too
   *     short
   */
  public void read(int layer, int seq, int position, int kvHead, boolean value, float[] out) {
    checkLayer(layer);
    checkSeq(seq);
    Objects.checkIndex(kvHead, kvHeads);
    if (position < 0 || position >= positions[seq] || position < positions[seq] - capacity) {
      throw new IllegalArgumentException("position " + position + " of sequence " + seq + " is not held (held: "
          + Math.max(0, positions[seq] - capacity) + ".." + (positions[seq] - 1) + ")");
    }
    checkStored(layer, seq, position, position, "read");
    checkRange("output", out, 0, headDim);
    int slot = position % capacity;
    int base = headBase(seq, kvHead) + slot * headDim;
    if (storage == Storage.FLOAT32) {
      System.arraycopy(value ? values[layer] : keys[layer], base, out, 0, headDim);
    } else {
      byte[] qv = value ? valuesQ[layer] : keysQ[layer];
      float s = (value ? valueScales : keyScales)[layer][scaleIndex(seq, kvHead, slot)];
      for (int i = 0; i < headDim; i++) {
        out[i] = qv[base + i] * s;
      }
    }
  }

  /**
   * Commits {@code n} tokens stored with {@link #put} for every layer: the sequence's position
   * advances by {@code n}.
   *
   * @throws ShapeException under {@link EvictionPolicy#ERROR} if that exceeds the capacity
   */
  public void advance(int seq, int n) {
    ensureRoom(seq, n);
    positions[seq] += n;
  }

  /**
   * Rolls a sequence back to its first {@code length} tokens (for example to discard rejected
   * speculative tokens, or to re-run a step in a benchmark). O(1).
   *
   * @param seq the sequence
   * @param length tokens to keep, at most {@link #position(int)}
   * @throws IllegalArgumentException if the tokens to keep were already evicted by the sliding
   *     window or {@code length} is out of range
   */
  public void truncate(int seq, int length) {
    checkSeq(seq);
    if (length < 0 || length > positions[seq]) {
      throw new IllegalArgumentException("cannot truncate sequence " + seq + " of " + positions[seq] + " tokens to " + length);
    }
    if (positions[seq] > capacity && length < positions[seq]) {
      throw new IllegalArgumentException("sequence " + seq + " has wrapped its sliding window; its older tokens are gone, so it cannot be truncated");
    }
    positions[seq] = length;
    for (int l = 0; l < layers; l++) {
      if (hi[l][seq] > length) {
        // Tokens put after `length` overwrote the slots of older ones: those are gone too.
        lo[l][seq] = Math.min(length, Math.max(lo[l][seq], hi[l][seq] - capacity));
        hi[l][seq] = length;
      }
    }
  }

  /** Forgets a sequence's tokens (O(1) per layer: the slots are overwritten by later tokens). */
  public void reset(int seq) {
    positions[checkSeq(seq)] = 0;
    for (int l = 0; l < layers; l++) {
      lo[l][seq] = 0;
      hi[l][seq] = 0;
    }
  }

  /** Forgets every sequence's tokens. */
  public void resetAll() {
    Arrays.fill(positions, 0);
    for (int l = 0; l < layers; l++) {
      Arrays.fill(lo[l], 0);
      Arrays.fill(hi[l], 0);
    }
  }

  /** Bytes held by the cache's arrays. */
  public long memoryBytes() {
    long elems = (long) layers * sequences * kvHeads * capacity * headDim * 2;
    if (storage == Storage.FLOAT32) {
      return elems * Float.BYTES;
    }
    return elems + (long) layers * sequences * kvHeads * capacity * 2 * Float.BYTES;
  }

  @Override
  public String toString() {
    return "KVCache[layers=" + layers + ", sequences=" + sequences + ", kvHeads=" + kvHeads + ", headDim=" + headDim
        + ", capacity=" + capacity + ", " + policy + ", " + storage + "]";
  }

  private int headBase(int seq, int head) {
    return ((seq * kvHeads + head) * capacity) * headDim;
  }

  private int scaleIndex(int seq, int head, int slot) {
    return (seq * kvHeads + head) * capacity + slot;
  }

  private int checkSeq(int seq) {
    if (seq < 0 || seq >= sequences) {
      throw new IndexOutOfBoundsException("sequence " + seq + " outside [0, " + sequences + ")");
    }
    return seq;
  }

  private void checkLayer(int layer) {
    if (layer < 0 || layer >= layers) {
      throw new IndexOutOfBoundsException("layer " + layer + " outside [0, " + layers + ")");
    }
  }

  /** Notes that {@code position} is now the newest stored token of (layer, seq). */
  private void record(int layer, int seq, int position) {
    int h = hi[layer][seq];
    int first = Math.max(lo[layer][seq], h - capacity);
    if (position == h) {
      hi[layer][seq] = h + 1;
    } else if (position > h || position < first) {
      // A gap: nothing before this token is known to be stored.
      lo[layer][seq] = position;
      hi[layer][seq] = position + 1;
    } else {
      // Re-put inside the stored range: the newer tokens are discarded, and the slots they
      // overwrote no longer hold their older tokens.
      lo[layer][seq] = first;
      hi[layer][seq] = position + 1;
    }
  }

  private void checkStored(int layer, int seq, int from, int to, String what) {
    int h = hi[layer][seq];
    int first = Math.max(lo[layer][seq], h - capacity);
    if (to >= h || from < first) {
      throw new ShapeException("KV cache " + what + " at position " + to + " of sequence " + seq + ", layer " + layer
          + " needs tokens " + from + ".." + to + " but only " + (h > first ? first + ".." + (h - 1) : "none")
          + " are stored (put them first; reset and the sliding window discard tokens)");
    }
  }

  private static void checkRange(String what, float[] a, int off, int len) {
    if (off < 0 || off > a.length - len) {
      throw new ShapeException("KV cache " + what + " array of " + a.length + " floats cannot hold " + len
          + " values at offset " + off);
    }
  }

  private void checkPosition(int seq, int position) {
    checkSeq(seq);
    if (position == Integer.MAX_VALUE) {
      throw new ShapeException("KV cache position overflow: position " + position + " of sequence " + seq
          + " is the last int; reset the sequence");
    }
    if (position < positions[seq]) {
      throw new IllegalArgumentException("position " + position + " of sequence " + seq + " is before its next position " + positions[seq]);
    }
    if (policy == EvictionPolicy.ERROR && position >= capacity) {
      throw new ShapeException("KV cache full: position " + position + " of sequence " + seq + " exceeds the capacity "
          + capacity + " (policy ERROR; use SLIDING_WINDOW or a larger capacity)");
    }
  }

  /** Symmetric int8 quantization of one head vector; returns the scale. */
  static float quantize(float[] x, int off, byte[] dst, int dOff, int n) {
    float max = 0f;
    for (int i = 0; i < n; i++) {
      max = Math.max(max, Math.abs(x[off + i]));
    }
    if (max == 0f) {
      Arrays.fill(dst, dOff, dOff + n, (byte) 0);
      return 0f;
    }
    float scale = max / 127f;
    float inv = 127f / max;
    for (int i = 0; i < n; i++) {
      float r = x[off + i] * inv;
      // Round half away from zero; |r| <= 127 by construction, clamp guards rounding at the edge.
      int qv = (int) (r + Math.copySign(0.5f, r));
      dst[dOff + i] = (byte) Math.max(-127, Math.min(127, qv));
    }
    return scale;
  }

  /** Builder for {@link KVCache}; layers, kvHeads, headDim and capacity are required. */
  public static final class Builder {
    private int layers = -1;
    private int sequences = 1;
    private int kvHeads = -1;
    private int headDim = -1;
    private int capacity = -1;
    private EvictionPolicy policy = EvictionPolicy.ERROR;
    private Storage storage = Storage.FLOAT32;
    private FloatKernels kernels;

    private Builder() {}

    /** Number of transformer layers (required). */
    public Builder layers(int layers) {
      this.layers = layers;
      return this;
    }

    /** Number of independent sequences; default 1. */
    public Builder sequences(int sequences) {
      this.sequences = sequences;
      return this;
    }

    /** Number of key/value heads per layer (required). */
    public Builder kvHeads(int kvHeads) {
      this.kvHeads = kvHeads;
      return this;
    }

    /** Elements per head vector (required). */
    public Builder headDim(int headDim) {
      this.headDim = headDim;
      return this;
    }

    /** Tokens per sequence, or the window length for {@link EvictionPolicy#SLIDING_WINDOW} (required). */
    public Builder capacity(int capacity) {
      this.capacity = capacity;
      return this;
    }

    /** Eviction policy; default {@link EvictionPolicy#ERROR}. */
    public Builder policy(EvictionPolicy policy) {
      this.policy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** Storage format; default {@link Storage#FLOAT32}. */
    public Builder storage(Storage storage) {
      this.storage = Objects.requireNonNull(storage, "storage");
      return this;
    }

    /** Kernels for attention (tests pin the scalar reference); default {@link FloatKernels#get()}. */
    public Builder kernels(FloatKernels kernels) {
      this.kernels = Objects.requireNonNull(kernels, "kernels");
      return this;
    }

    /**
     * Allocates the cache.
     *
     * @throws ConfigException if a required value is missing or not positive
     */
    public KVCache build() {
      require("layers", layers);
      require("sequences", sequences);
      require("kvHeads", kvHeads);
      require("headDim", headDim);
      require("capacity", capacity);
      return new KVCache(this);
    }

    private static void require(String name, int v) {
      if (v <= 0) {
        throw new ConfigException("KV cache " + name + " must be positive, got " + (v == -1 ? "nothing" : v));
      }
    }
  }
}
