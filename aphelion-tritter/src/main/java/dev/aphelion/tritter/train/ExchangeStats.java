package dev.aphelion.tritter.train;

/**
 * What one worker's exchange did so far.
 *
 * @param steps exchange calls
 * @param messageBytes bytes of the messages this worker sent (headers included)
 * @param float32Bytes bytes the same gradients take as plain float32 values
 * @param transportBytes bytes the transport actually carried for this worker's messages (for
 *     example the Base64 text of a Spark barrier message); equal to {@code messageBytes} in process
 * @param nanos time spent inside the exchange (encoding, waiting, decoding)
 */
public record ExchangeStats(long steps, long messageBytes, long float32Bytes, long transportBytes, long nanos)
    implements java.io.Serializable {

  /** {@code float32Bytes / messageBytes}: how many times smaller the messages were. */
  public double ratio() {
    return messageBytes == 0 ? 1.0 : (double) float32Bytes / messageBytes;
  }

  /** Message bytes per step. */
  public double messageBytesPerStep() {
    return steps == 0 ? 0 : (double) messageBytes / steps;
  }

  /** Transport bytes per step. */
  public double transportBytesPerStep() {
    return steps == 0 ? 0 : (double) transportBytes / steps;
  }
}
