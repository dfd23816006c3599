package dev.aphelion.tritter.model;

/**
 * The gated feed-forward activation: {@code FFN(x) = W_down · (act(W_gate·x) ⊙ W_up·x)}.
 */
public enum FfnActivation {
  /** {@code act(g) = max(g, 0)²}, as in BitNet b1.58 2B4T. */
  SQUARED_RELU,
  /** {@code act(g) = g · sigmoid(g)} (SiLU; the gated form is SwiGLU), as in LLaMA. */
  SWIGLU;

  /**
   * Applies {@code act(gate[i]) · up[i]} in place into {@code gate}.
   *
   * @param gate the gate projections; overwritten with the result
   * @param up the up projections
   * @param n number of elements
   */
  public void applyGated(float[] gate, float[] up, int n) {
    switch (this) {
      case SQUARED_RELU -> {
        for (int i = 0; i < n; i++) {
          float g = Math.max(gate[i], 0f);
          gate[i] = g * g * up[i];
        }
      }
      case SWIGLU -> {
        for (int i = 0; i < n; i++) {
          float g = gate[i];
          gate[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
      }
    }
  }
}
