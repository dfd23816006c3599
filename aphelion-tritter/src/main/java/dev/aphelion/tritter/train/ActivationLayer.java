package dev.aphelion.tritter.train;

import dev.aphelion.core.error.ShapeException;
import java.util.Objects;
import java.util.SplittableRandom;

/** An element-wise {@link Activation} as a layer without parameters. */
public final class ActivationLayer implements TrainableLayer {
  private static final long serialVersionUID = 1L;

  private final int width;
  private final Activation activation;
  private transient float[] x;

  /**
   * Creates the layer.
   *
   * @param width the number of features, at least 1
   * @param activation the function
   * @throws ShapeException if the width is not positive
   */
  public ActivationLayer(int width, Activation activation) {
    if (width < 1) {
      throw new ShapeException("activation width must be at least 1, got " + width);
    }
    this.width = width;
    this.activation = Objects.requireNonNull(activation, "activation");
  }

  /** The function. */
  public Activation activation() {
    return activation;
  }

  @Override
  public int inFeatures() {
    return width;
  }

  @Override
  public int outFeatures() {
    return width;
  }

  @Override
  public int parameterCount() {
    return 0;
  }

  @Override
  public void initialize(float[] params, int offset, SplittableRandom random) {}

  @Override
  public float[] forward(float[] params, int offset, float[] input, int rows) {
    int n = rows * width;
    x = java.util.Arrays.copyOf(input, n);
    float[] y = new float[n];
    for (int i = 0; i < n; i++) {
      y[i] = activation.apply(x[i]);
    }
    return y;
  }

  @Override
  public float[] backward(float[] params, float[] grads, int offset, float[] dy, int rows, boolean needInput) {
    if (x == null || x.length != rows * width) {
      throw new IllegalStateException("backward of " + rows + " rows without a matching forward pass");
    }
    if (!needInput) {
      return null;
    }
    float[] dx = new float[rows * width];
    for (int i = 0; i < dx.length; i++) {
      dx[i] = dy[i] * activation.derivative(x[i]);
    }
    return dx;
  }

  @Override
  public TrainableLayer fresh() {
    return new ActivationLayer(width, activation);
  }

  @Override
  public InferenceNetwork.Stage export(float[] params, int offset) {
    return new InferenceNetwork.Act(activation, width);
  }

  @Override
  public String toString() {
    return activation + "[" + width + "]";
  }
}
