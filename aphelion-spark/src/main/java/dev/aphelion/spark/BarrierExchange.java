package dev.aphelion.spark;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.error.SerializationException;
import dev.aphelion.tritter.train.ExchangeSettings;
import dev.aphelion.tritter.train.MessageExchange;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.spark.BarrierTaskContext;

/**
 * The {@link dev.aphelion.tritter.train.GradientExchange} between the tasks of one Spark barrier
 * stage: each step every task calls {@link BarrierTaskContext#allGather(String)} with its
 * {@link MessageExchange} message and gets every task's message back, ordered by partition.
 *
 * <p><b>Encoding.</b> {@code allGather} carries strings, inside Java-serialized RPC messages whose
 * strings are modified UTF-8, so the binary message travels as 7 bits per one-byte character
 * ({@code ceil(8n/7)} characters for {@code n} bytes, 8/7 of the binary size; Base64 would be
 * 4/3). {@link #stats()}'s {@code transportBytes} counts the string's modified-UTF-8 bytes, what
 * Spark's serializer writes for it; {@code messageBytes} counts the binary message.
 *
 * <p><b>Timeouts.</b> A task waits at most {@code spark.barrier.sync.timeout} seconds (Spark's
 * setting, default one year: set it) for the others; then Spark fails the stage instead of hanging.
 */
public final class BarrierExchange extends MessageExchange {
  private final BarrierTaskContext context;

  /**
   * Creates this task's side of the exchange.
   *
   * @param context the barrier task's context
   * @param dimension the gradient length
   * @param settings float32 or compressed
   */
  public BarrierExchange(BarrierTaskContext context, int dimension, ExchangeSettings settings) {
    super(Objects.requireNonNull(context, "context").partitionId(), context.getTaskInfos().length, dimension, settings);
    this.context = context;
  }

  @Override
  protected List<byte[]> allGather(long step, byte[] message) {
    String text = SevenBitText.encode(message);
    countTransport(SevenBitText.wireBytes(text));
    String[] all;
    try {
      all = context.allGather(text);
    } catch (RuntimeException e) {
      throw new AphelionException(ErrorCode.BACKEND, "step " + step + ": the barrier all-gather of task " + rank()
          + " failed (a task died or spark.barrier.sync.timeout passed): " + e.getMessage(), e);
    }
    List<byte[]> out = new ArrayList<>(all.length);
    for (int w = 0; w < all.length; w++) {
      try {
        out.add(SevenBitText.decode(all[w]));
      } catch (SerializationException e) {
        throw new SerializationException("step " + step + ": the message of task " + w + ": " + e.getMessage(), e);
      }
    }
    return out;
  }
}
