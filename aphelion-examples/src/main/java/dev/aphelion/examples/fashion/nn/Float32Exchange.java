package dev.aphelion.examples.fashion.nn;

import dev.aphelion.core.error.ShapeException;
import java.util.concurrent.atomic.AtomicLong;

/** The uncompressed exchange: every worker sends its float32 gradient, the mean is exact. */
public final class Float32Exchange implements GradientExchange {
  private final float[][] received;
  private final AtomicLong bytes = new AtomicLong();

  /**
   * Creates the exchange.
   *
   * @param workers the number of workers
   */
  public Float32Exchange(int workers) {
    this.received = new float[workers][];
  }

  @Override
  public String name() {
    return "f32";
  }

  @Override
  public void send(int worker, float[] gradient) {
    received[worker] = gradient;
    bytes.addAndGet(4L * gradient.length);
  }

  @Override
  public void combine(float[] out) {
    java.util.Arrays.fill(out, 0f);
    int n = 0;
    for (int w = 0; w < received.length; w++) {
      float[] g = received[w];
      if (g == null) {
        continue;
      }
      if (g.length != out.length) {
        throw new ShapeException("worker " + w + " sent " + g.length + " values, expected " + out.length);
      }
      for (int i = 0; i < out.length; i++) {
        out[i] += g[i];
      }
      received[w] = null;
      n++;
    }
    if (n > 1) {
      float inv = 1f / n;
      for (int i = 0; i < out.length; i++) {
        out[i] *= inv;
      }
    }
  }

  @Override
  public long wireBytes() {
    return bytes.get();
  }

  @Override
  public long float32Bytes() {
    return bytes.get();
  }
}
