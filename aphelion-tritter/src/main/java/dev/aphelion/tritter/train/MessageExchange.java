package dev.aphelion.tritter.train;

import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.compress.GradientCompressor;
import dev.aphelion.tritter.compress.TernaryCompressedGradient;
import java.util.ArrayList;
import java.util.Arrays;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Objects;

/**
 * A {@link GradientExchange} built on an all-gather of one byte message per worker: subclasses
 * supply the transport ({@link #allGather}), this class the encoding and the averaging, so every
 * transport computes the same bits.
 *
 * <p><b>Message.</b> Little-endian: magic {@code 0x58475041} ("APGX"), version byte 1, kind byte
 * (0 float32, 1 compressed, 2 empty, 3 non-finite), rank (int), step (long), examples (long),
 * payload length (int), payload: 30 header bytes, then {@code 4·n} float32 values or the
 * {@link dev.aphelion.tritter.compress.TernaryCompressedGradient} wire bytes. A worker with no
 * examples this step, or a non-finite gradient, sends the header only (its compressor is not
 * advanced, so its error-feedback residual is kept).
 *
 * <p><b>Average.</b> {@code out = Σ_w (n_w / Σ n) · decode(m_w)}, summed in rank order, on every
 * worker: bit-identical everywhere ({@link #combineCompressed} is the hook for encodings that
 * combine messages before decoding). The linear count sketch takes two all-gathers per step: the
 * tables are summed first ({@code GradientCompressor.combine(m, n / Σ n)}), every worker selects
 * the same k coordinates from the sum ({@code select}), and in the second round each sends its
 * exact values there ({@code values}, same header layout, kind 2 for a worker without examples);
 * {@code out} is the weighted sum of those values ({@code scatter}).
 *
 * <p><b>Budget.</b> A compressed exchange sizes its compressor with
 * {@link ExchangeSettings#wireCompressionConfig}: the factor applies to what travels (header and
 * transport encoding included), not only to the compressor's payload.
 */
public abstract class MessageExchange implements GradientExchange {
  /** The first four bytes of every message. */
  public static final int MAGIC = 0x58475041;
  /** The header length in bytes. */
  public static final int HEADER_BYTES = 30;
  private static final byte VERSION = 1;
  private static final byte F32 = 0;
  private static final byte COMPRESSED = 1;
  private static final byte EMPTY = 2;
  private static final byte NON_FINITE = 3;

  private final int rank;
  private final int workers;
  private final int dimension;
  private final ExchangeSettings settings;
  private final GradientCompressor sender;
  private final GradientCompressor receiver;
  private final float[] decoded;
  private long steps;
  private long messageBytes;
  private long float32Bytes;
  private long transportBytes;
  private long nanos;

  /**
   * Creates this worker's side of the exchange.
   *
   * @param rank this worker's index
   * @param workers the number of workers, at least 1
   * @param dimension the gradient length, at least 1
   * @param settings float32 or compressed
   */
  protected MessageExchange(int rank, int workers, int dimension, ExchangeSettings settings) {
    if (workers < 1 || rank < 0 || rank >= workers) {
      throw new ShapeException("rank " + rank + " of " + workers + " workers");
    }
    if (dimension < 1) {
      throw new ShapeException("gradient dimension must be at least 1, got " + dimension);
    }
    this.rank = rank;
    this.workers = workers;
    this.dimension = dimension;
    this.settings = Objects.requireNonNull(settings, "settings");
    if (settings.compressed()) {
      sender = new GradientCompressor(settings.wireCompressionConfig(dimension), dimension);
      receiver = new GradientCompressor(settings.wireCompressionConfig(dimension), dimension);
    } else {
      sender = null;
      receiver = null;
    }
    this.decoded = new float[dimension];
  }

  /**
   * Hands this worker's message of one step to every worker and returns all of them.
   *
   * @param step the step
   * @param message this worker's bytes
   * @return every worker's message of this step, index = rank
   */
  protected abstract List<byte[]> allGather(long step, byte[] message);

  /**
   * Adds to the transport byte count (a transport whose bytes differ from the message bytes calls
   * this from {@link #allGather}; otherwise the message length is counted).
   *
   * @param bytes the bytes the transport carried for this worker's message
   */
  protected final void countTransport(long bytes) {
    transportBytes += bytes;
    transportCounted = true;
  }

  private boolean transportCounted;
  /** Whether this worker's message of the current step is compressed (its sender waits for feedback). */
  private boolean sentCompressed;
  /** This worker's compressed message of the current step. */
  private TernaryCompressedGradient lastTable;

  @Override
  public final int rank() {
    return rank;
  }

  @Override
  public final int workers() {
    return workers;
  }

  /** The gradient length. */
  public final int dimension() {
    return dimension;
  }

  /** The settings. */
  public final ExchangeSettings settings() {
    return settings;
  }

  /**
   * A copy of this worker's error-feedback residual (zeros for a float32 exchange).
   *
   * @return {@link #dimension()} values
   */
  public float[] residual() {
    return sender == null ? new float[dimension] : sender.residual();
  }

  @Override
  public GradientExchange.State state() {
    return sender == null ? null : new GradientExchange.State(sender.step(), sender.residual());
  }

  @Override
  public void restore(GradientExchange.State state) {
    if ((state == null) != (sender == null)) {
      throw new dev.aphelion.core.error.ConfigException("the checkpoint was written with a " + (state == null ? "float32" : "compressed")
          + " exchange, this job's is " + settings.name());
    }
    if (state != null) {
      sender.restore(state.step(), state.residual());
    }
  }

  @Override
  public final Result allReduce(long step, float[] localMean, long examples, float[] out) {
    Objects.requireNonNull(localMean, "localMean");
    Objects.requireNonNull(out, "out");
    if (localMean.length != dimension || out.length != dimension) {
      throw new ShapeException("exchange of dimension " + dimension + " given gradient " + localMean.length + " and output "
          + out.length);
    }
    if (examples < 0) {
      throw new ShapeException("examples must not be negative, got " + examples);
    }
    long t0 = System.nanoTime();
    byte[] message = encode(step, localMean, examples);
    transportCounted = false;
    List<byte[]> all = allGather(step, message);
    if (!transportCounted) {
      transportBytes += message.length;
    }
    Result r = average(step, all, out);
    steps++;
    messageBytes += message.length;
    if (examples > 0) {
      float32Bytes += 4L * dimension;
    }
    nanos += System.nanoTime() - t0;
    return r;
  }

  private byte[] encode(long step, float[] g, long examples) {
    sentCompressed = false;
    byte kind;
    byte[] payload;
    if (examples == 0) {
      kind = EMPTY;
      payload = new byte[0];
    } else if (!allFinite(g)) {
      kind = NON_FINITE;
      payload = new byte[0];
    } else if (sender != null) {
      kind = COMPRESSED;
      lastTable = sender.compress(g);
      payload = lastTable.toBytes();
      sentCompressed = true;
    } else {
      kind = F32;
      ByteBuffer p = ByteBuffer.allocate(4 * dimension).order(ByteOrder.LITTLE_ENDIAN);
      p.asFloatBuffer().put(g);
      payload = p.array();
    }
    ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + payload.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(MAGIC).put(VERSION).put(kind).putInt(rank).putLong(step).putLong(examples).putInt(payload.length).put(payload);
    return b.array();
  }

  private static boolean allFinite(float[] g) {
    for (float v : g) {
      if (!Float.isFinite(v)) {
        return false;
      }
    }
    return true;
  }

  private Result average(long step, List<byte[]> all, float[] out) {
    if (all.size() != workers) {
      throw new SerializationException("step " + step + ": received " + all.size() + " messages from " + workers + " workers");
    }
    long total = 0;
    boolean finite = true;
    ByteBuffer[] bodies = new ByteBuffer[workers];
    byte[] kinds = new byte[workers];
    long[] counts = new long[workers];
    for (int w = 0; w < workers; w++) {
      byte[] m = all.get(w);
      if (m == null || m.length < HEADER_BYTES) {
        throw new SerializationException("step " + step + ": message of worker " + w + " is "
            + (m == null ? "missing" : "truncated (" + m.length + " bytes)"));
      }
      ByteBuffer b = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
      int magic = b.getInt();
      byte version = b.get();
      byte kind = b.get();
      int from = b.getInt();
      long s = b.getLong();
      long n = b.getLong();
      int len = b.getInt();
      if (magic != MAGIC || version != VERSION) {
        throw new SerializationException("step " + step + ": message of worker " + w + " is not a gradient message (magic 0x"
            + Integer.toHexString(magic) + ", version " + version + ")");
      }
      if (from != w || s != step) {
        throw new SerializationException("step " + step + ": slot " + w + " holds the message of worker " + from
            + " for step " + s);
      }
      if (len != m.length - HEADER_BYTES || n < 0 || kind < F32 || kind > NON_FINITE) {
        throw new SerializationException("step " + step + ": corrupt header from worker " + w + " (kind " + kind
            + ", examples " + n + ", payload " + len + " of " + (m.length - HEADER_BYTES) + " bytes)");
      }
      if ((kind == F32 && (sender != null || len != 4 * dimension)) || (kind == COMPRESSED && sender == null)) {
        throw new SerializationException("step " + step + ": worker " + w + " sent a " + (kind == F32 ? "float32" : "compressed")
            + " gradient of " + len + " bytes; this job's exchange is " + settings.name() + " of dimension " + dimension);
      }
      bodies[w] = b;
      kinds[w] = kind;
      counts[w] = n;
      if (kind == NON_FINITE) {
        finite = false;
      }
      if (kind == F32 || kind == COMPRESSED) {
        total += n;
      }
    }
    java.util.Arrays.fill(out, 0f);
    boolean linear = sender != null && settings.compressionConfig().encoding().isLinear();
    if (linear && !sentCompressed) {
      sender.skipStep(); // keeps this worker's steps, and so the sketch hashes, in line with the others
    }
    if (!finite || total == 0) {
      return new Result(total, finite);
    }
    if (linear) {
      sumLinear(step, all, kinds, counts, total, out);
      return new Result(total, true);
    }
    List<byte[]> payloads = new java.util.ArrayList<>(workers);
    float[] weights = new float[workers];
    for (int w = 0; w < workers; w++) {
      if (kinds[w] != F32 && kinds[w] != COMPRESSED) {
        continue;
      }
      float weight = (float) ((double) counts[w] / total);
      if (kinds[w] == F32) {
        ByteBuffer b = bodies[w];
        for (int i = 0; i < dimension; i++) {
          out[i] += weight * b.getFloat();
        }
      } else {
        byte[] m = all.get(w);
        weights[payloads.size()] = weight;
        payloads.add(java.util.Arrays.copyOfRange(m, HEADER_BYTES, m.length));
      }
    }
    if (!payloads.isEmpty()) {
      combineCompressed(step, payloads, java.util.Arrays.copyOf(weights, payloads.size()), out);
    }
    return new Result(total, true);
  }

  /**
   * Adds the weighted compressed gradients of one step to {@code out}: the extension point for an
   * encoding whose messages can be combined before decoding (a linear sketch sums them and
   * decodes once). The default decodes each message and adds {@code weight · decoded} in rank
   * order. An override must give every worker the same bits, and must not keep state across
   * steps beyond what {@link #state()} checkpoints.
   *
   * @param step the step
   * @param payloads the compressor wire bytes of the workers that sent a gradient, in rank order
   * @param weights each payload's weight {@code n_w / Σ n}, same order
   * @param out the sum so far (zeros), updated in place
   */
  protected void combineCompressed(long step, List<byte[]> payloads, float[] weights, float[] out) {
    for (int j = 0; j < payloads.size(); j++) {
      receiver.decompressInto(receiver.read(payloads.get(j)), decoded);
      float weight = weights[j];
      for (int i = 0; i < dimension; i++) {
        out[i] += weight * decoded[i];
      }
    }
  }

  /**
   * The codec that decodes received messages (null for a float32 exchange), for an override of
   * {@link #combineCompressed}.
   *
   * @return the receiving compressor
   */
  protected final GradientCompressor receiver() {
    return receiver;
  }

  /**
   * The count sketch's two rounds: sum the tables (weighted, rank order), select the k coordinates
   * from the sum, all-gather every worker's exact values there, and scatter their weighted sum.
   */
  private void sumLinear(long step, List<byte[]> all, byte[] kinds, long[] counts, long total, float[] out) {
    List<TernaryCompressedGradient> tables = new ArrayList<>(workers);
    float[] weights = new float[workers];
    int count = 0;
    for (int w = 0; w < workers; w++) {
      if (kinds[w] == COMPRESSED) {
        tables.add(payload(all.get(w)));
        weights[count++] = (float) ((double) counts[w] / total);
      }
    }
    weights = Arrays.copyOf(weights, count);
    int[] chosen = receiver.select(receiver.combine(tables, weights));
    byte[] mine = sentCompressed ? sender.values(lastTable, chosen).toBytes() : new byte[0];
    ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + mine.length).order(ByteOrder.LITTLE_ENDIAN);
    long examples = sentCompressed ? counts[rank] : 0;
    b.putInt(MAGIC).put(VERSION).put(sentCompressed ? COMPRESSED : EMPTY).putInt(rank).putLong(step).putLong(examples)
        .putInt(mine.length).put(mine);
    byte[] message = b.array();
    transportCounted = false;
    List<byte[]> round2 = allGather(step, message);
    if (!transportCounted) {
      transportBytes += message.length;
    }
    messageBytes += message.length;
    if (round2.size() != workers) {
      throw new SerializationException("step " + step + ": round 2 received " + round2.size() + " messages from " + workers + " workers");
    }
    List<TernaryCompressedGradient> values = new ArrayList<>(count);
    for (int w = 0; w < workers; w++) {
      byte[] m = round2.get(w);
      if (m == null || m.length < HEADER_BYTES || m[5] != kinds[w] || ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).getInt(6) != w) {
        throw new SerializationException("step " + step + ": round 2 message of worker " + w + " is missing, truncated or "
            + "does not match its round 1 message");
      }
      if (kinds[w] == COMPRESSED) {
        TernaryCompressedGradient v = payload(m);
        if (!v.isSketchValues() || v.step() != tables.get(0).step()) {
          throw new SerializationException("step " + step + ": round 2 message of worker " + w + " is not a count sketch values "
              + "message of this step (" + v + ")");
        }
        values.add(v);
      }
    }
    receiver.scatter(receiver.combine(values, weights), chosen, out);
  }

  private TernaryCompressedGradient payload(byte[] m) {
    return receiver.read(Arrays.copyOfRange(m, HEADER_BYTES, m.length));
  }

  @Override
  public final ExchangeStats stats() {
    return new ExchangeStats(steps, messageBytes, float32Bytes, transportBytes, nanos);
  }
}
