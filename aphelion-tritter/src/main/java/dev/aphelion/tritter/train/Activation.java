package dev.aphelion.tritter.train;

/** Element-wise activation functions with their derivatives; training and inference share them. */
public enum Activation {
  /** {@code max(x, 0)}. */
  RELU {
    @Override
    public float apply(float x) {
      return x > 0f ? x : 0f;
    }

    @Override
    public float derivative(float x) {
      return x > 0f ? 1f : 0f;
    }
  },
  /** {@code x · sigmoid(x)} (SiLU, swish). */
  SILU {
    @Override
    public float apply(float x) {
      return (float) (x / (1.0 + Math.exp(-x)));
    }

    @Override
    public float derivative(float x) {
      double s = 1.0 / (1.0 + Math.exp(-x));
      return (float) (s * (1 + x * (1 - s)));
    }
  },
  /** {@code tanh(x)}. */
  TANH {
    @Override
    public float apply(float x) {
      return (float) Math.tanh(x);
    }

    @Override
    public float derivative(float x) {
      double t = Math.tanh(x);
      return (float) (1 - t * t);
    }
  };

  /**
   * The function.
   *
   * @param x the input
   * @return the activation
   */
  public abstract float apply(float x);

  /**
   * The derivative at {@code x}.
   *
   * @param x the input
   * @return {@code f'(x)}
   */
  public abstract float derivative(float x);
}
