package dev.aphelion.tritter.train;

import dev.aphelion.tritter.dense.DenseMatmul;

/** The backward products of a linear layer {@code y = x·Wᵀ + b} on {@link DenseMatmul}. */
final class LinearGrad {
  private float[] dyT;
  private float[] xT;
  private float[] dw;
  private float[] wT;

  /**
   * Adds {@code dW = dyᵀ·x} at {@code wOff} and {@code db = Σ dy} at {@code bOff} (when ≥ 0) to
   * {@code grads}; returns {@code dx = dy·W} when {@code needInput}.
   */
  float[] backward(DenseMatmul mm, float[] w, int in, int out, float[] x, float[] dy, int rows,
      float[] grads, int wOff, int bOff, boolean needInput) {
    if (bOff >= 0) {
      for (int r = 0; r < rows; r++) {
        int base = r * out;
        for (int o = 0; o < out; o++) {
          grads[bOff + o] += dy[base + o];
        }
      }
    }
    // dW[o][i] = Σ_r dy[r][o] x[r][i]: a GEMM with "weights" xᵀ [in × rows] over the batch dyᵀ [out × rows]
    dyT = Buffers.transpose(dy, 0, rows, out, Buffers.exact(dyT, rows * out));
    xT = Buffers.transpose(x, 0, rows, in, Buffers.exact(xT, rows * in));
    dw = Buffers.exact(dw, out * in);
    mm.gemm(xT, in, rows, dyT, out, dw);
    for (int k = 0; k < out * in; k++) {
      grads[wOff + k] += dw[k];
    }
    if (!needInput) {
      return null;
    }
    // dx[r][i] = Σ_o dy[r][o] W[o][i]: a GEMM with "weights" Wᵀ [in × out]
    wT = Buffers.transpose(w, 0, out, in, Buffers.exact(wT, out * in));
    float[] dx = new float[rows * in];
    mm.gemm(wT, in, out, dy, rows, dx);
    return dx;
  }
}
