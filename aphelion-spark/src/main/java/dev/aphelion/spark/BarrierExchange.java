package dev.aphelion.spark;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.error.SerializationException;
import dev.aphelion.tritter.train.ExchangeSettings;
import dev.aphelion.tritter.train.MessageExchange;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import org.apache.spark.BarrierTaskContext;

/**
 * The {@link dev.aphelion.tritter.train.GradientExchange} between the tasks of one Spark barrier
 * stage: each step every task calls {@link BarrierTaskContext#allGather(String)} with its
 * {@link MessageExchange} message and gets every task's message back, ordered by partition.
 *
 * <p><b>Encoding.</b> {@code allGather} carries strings, so the binary message travels as Base64
 * (RFC 4648, no line breaks): {@code 4·ceil(n/3)} ASCII characters for {@code n} bytes, 4/3 of the
 * binary size. {@link #stats()}'s {@code transportBytes} counts those characters (one byte each in
 * Spark's UTF-8 RPC encoding); {@code messageBytes} counts the binary message.
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
    String text = Base64.getEncoder().encodeToString(message);
    countTransport(text.length());
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
        out.add(Base64.getDecoder().decode(all[w]));
      } catch (IllegalArgumentException e) {
        throw new SerializationException("step " + step + ": the message of task " + w + " is not Base64: " + e.getMessage(), e);
      }
    }
    return out;
  }
}
