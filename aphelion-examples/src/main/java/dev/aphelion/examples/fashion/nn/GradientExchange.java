package dev.aphelion.examples.fashion.nn;

/**
 * How data-parallel workers combine their gradients each step: the in-process stand-in for an
 * all-reduce between machines, with an honest count of the bytes that would cross the wire.
 *
 * <p>Each step every worker calls {@link #send} from its own thread with the mean gradient of its
 * shard; then one thread calls {@link #combine}, which writes the mean over workers of what the
 * receivers reconstruct. Implementations may keep per-worker state (error feedback) between steps.
 */
public interface GradientExchange {

  /** A short name for logs and charts, for example {@code f32} or {@code vsa-32x}. */
  String name();

  /**
   * Hands over worker {@code worker}'s gradient for this step; called concurrently by different
   * workers, never twice for one worker in a step.
   *
   * @param worker the worker index, 0..workers-1
   * @param gradient the worker's gradient; the exchange may read it until {@link #combine} returns
   *     and may overwrite it
   */
  void send(int worker, float[] gradient);

  /**
   * Writes the combined gradient of this step (the mean over workers of what each sent, as the
   * receivers decode it) and ends the step.
   *
   * @param out receives the combined gradient
   */
  void combine(float[] out);

  /** The bytes that all workers' messages took on the wire so far. */
  long wireBytes();

  /** The bytes the same messages would have taken as plain float32 gradients. */
  long float32Bytes();

  /** {@code float32Bytes / wireBytes}: how many times smaller the messages were. */
  default double wireRatio() {
    return wireBytes() == 0 ? 1.0 : (double) float32Bytes() / wireBytes();
  }
}
