package dev.aphelion.examples.fashion.nn;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.quant.Int8Activations;
import java.util.Arrays;
import java.util.List;

/**
 * One data-parallel worker's forward and backward passes over a shard of a minibatch, with its
 * own activation buffers (so workers share nothing but the read-only weights).
 *
 * <p>For each layer: {@code n = RMSNorm(h)·g}; for a ternary model {@code n} is quantized per row
 * to int8 by the library's {@link Int8Activations} ({@code x = round(n / s_x)},
 * {@code s_x = max|n|/127}) and multiplied by the ternary
 * weights {@code q ∈ {-1,0,1}} as an exact integer product, then rescaled:
 * {@code z = (x · qᵀ) · s_x · s_w + b}. The backward pass is the straight-through estimator: the
 * gradient with respect to the dequantized weights {@code q·s_w} is applied to the latent float
 * weights, and the gradient with respect to the dequantized activations {@code x·s_x} is passed
 * to {@code n} unchanged.
 */
public final class Worker {
  private final MlpLayout layout;
  private final List<MlpLayout.Slot> slots;
  private final int maxRows;
  // per layer: input activations h (post-ReLU), normalized/quantized input, 1/rms, activation scale
  private final float[][] act;
  private final float[][] norm;
  private final float[][] rinv;
  private final float[][] xscale;
  private final float[] logits;
  private final float[] dz;
  private final float[] dzScaled;
  private final float[] dzT;
  private final float[] dn;

  /**
   * Creates a worker with buffers for up to {@code maxRows} examples at a time.
   *
   * @param layout the model shape
   * @param maxRows the largest shard this worker will be given
   */
  public Worker(MlpLayout layout, int maxRows) {
    if (maxRows <= 0) {
      throw new ShapeException("maxRows must be positive: " + maxRows);
    }
    this.layout = layout;
    this.slots = layout.slots();
    this.maxRows = maxRows;
    int layers = layout.layers();
    act = new float[layers][];
    norm = new float[layers][];
    rinv = new float[layers][maxRows];
    xscale = new float[layers][maxRows];
    for (int l = 0; l < layers; l++) {
      act[l] = new float[maxRows * slots.get(l).in()];
      norm[l] = new float[maxRows * slots.get(l).in()];
    }
    int w = layout.maxWidth();
    logits = new float[maxRows * layout.outputs()];
    dz = new float[maxRows * w];
    dzScaled = new float[maxRows * w];
    dzT = new float[maxRows * w];
    dn = new float[maxRows * w];
  }

  /**
   * Loss and accuracy of one shard.
   *
   * @param lossSum the summed cross-entropy over the shard's examples
   * @param correct how many examples the model classified correctly
   * @param count how many examples
   */
  public record Result(double lossSum, int correct, int count) {}

  /**
   * Runs the forward pass over examples {@code order[from..to)} and, when {@code grad} is not
   * null, the backward pass, writing {@code gradScale ×} the summed gradient into {@code grad}
   * (overwriting it).
   *
   * @param mlp the model (for biases and gains)
   * @param snap the effective weights, taken from {@code mlp} for this step
   * @param inputs all inputs, {@code count × inputs} row-major
   * @param labels all labels
   * @param order example indices
   * @param from first position in {@code order}
   * @param to one past the last position
   * @param grad receives the gradient, or null for a forward pass only
   * @param gradScale factor for the gradient, typically {@code 1 / (to - from)} for the shard mean
   * @return the shard's summed loss and correct count
   */
  public Result run(
      Mlp mlp, Mlp.Snapshot snap, float[] inputs, int[] labels, int[] order, int from, int to,
      float[] grad, float gradScale) {
    int rows = to - from;
    if (rows <= 0 || rows > maxRows) {
      throw new ShapeException("shard of " + rows + " rows, this worker holds 1.." + maxRows);
    }
    if (grad != null && grad.length != layout.parameterCount()) {
      throw new ShapeException(
          "gradient has " + grad.length + " values, expected " + layout.parameterCount());
    }
    int d = layout.inputs();
    for (int r = 0; r < rows; r++) {
      System.arraycopy(inputs, order[from + r] * d, act[0], r * d, d);
    }
    forward(mlp.parameters(), snap, rows);

    int k = layout.outputs();
    double loss = 0;
    int correct = 0;
    for (int r = 0; r < rows; r++) {
      int base = r * k;
      int best = 0;
      float max = logits[base];
      for (int c = 1; c < k; c++) {
        if (logits[base + c] > max) {
          max = logits[base + c];
          best = c;
        }
      }
      double sum = 0;
      for (int c = 0; c < k; c++) {
        sum += Math.exp(logits[base + c] - max);
      }
      int y = labels[order[from + r]];
      loss += Math.log(sum) - (logits[base + y] - max);
      if (best == y) {
        correct++;
      }
      if (grad != null) {
        for (int c = 0; c < k; c++) {
          float p = (float) (Math.exp(logits[base + c] - max) / sum);
          dz[base + c] = (p - (c == y ? 1f : 0f)) * gradScale;
        }
      }
    }
    if (grad != null) {
      backward(mlp.parameters(), snap, rows, grad);
    }
    return new Result(loss, correct, rows);
  }

  /**
   * Computes the logits of {@code rows} inputs.
   *
   * @param mlp the model
   * @param snap its effective weights
   * @param inputs inputs, row-major, starting at {@code offset}
   * @param offset offset of the first input
   * @param rows how many inputs, 1..maxRows
   * @param out receives {@code rows × outputs} logits
   */
  public void logits(Mlp mlp, Mlp.Snapshot snap, float[] inputs, int offset, int rows, float[] out) {
    if (rows <= 0 || rows > maxRows) {
      throw new ShapeException("batch of " + rows + " rows, this worker holds 1.." + maxRows);
    }
    System.arraycopy(inputs, offset, act[0], 0, rows * layout.inputs());
    forward(mlp.parameters(), snap, rows);
    System.arraycopy(logits, 0, out, 0, rows * layout.outputs());
  }

  private void forward(float[] p, Mlp.Snapshot snap, int rows) {
    boolean ternary = snap.precision == Precision.TERNARY;
    int last = slots.size() - 1;
    for (int l = 0; l <= last; l++) {
      MlpLayout.Slot s = slots.get(l);
      int in = s.in();
      int out = s.out();
      float[] h = act[l];
      float[] n = norm[l];
      for (int r = 0; r < rows; r++) {
        rinv[l][r] = RmsNorm.apply(h, r * in, in, s.hasGain() ? p : null, s.gain(), n, r * in);
        xscale[l][r] = 1f;
      }
      if (ternary) {
        quantizeActivations(n, rows, in, xscale[l]);
      }
      float[] z = l == last ? logits : act[l + 1];
      Gemm.matmul(n, 0, snap.transposed[l], 0, z, 0, rows, in, out, false);
      float[] ws = snap.scales[l];
      for (int r = 0; r < rows; r++) {
        float xs = xscale[l][r];
        int base = r * out;
        for (int o = 0; o < out; o++) {
          float v = z[base + o] * xs * ws[o] + p[s.bias() + o];
          z[base + o] = l == last ? v : Math.max(v, 0f);
        }
      }
      if (ternary) {
        // keep the dequantized activations for the weight gradient
        for (int r = 0; r < rows; r++) {
          float xs = xscale[l][r];
          int base = r * in;
          for (int i = 0; i < in; i++) {
            n[base + i] *= xs;
          }
        }
      }
    }
  }

  /**
   * Replaces {@code rows × in} normalized activations by their int8 values (as floats) with the
   * library's per-token quantizer, the one {@code TernaryLayer} uses at inference time.
   */
  private static void quantizeActivations(float[] n, int rows, int in, float[] scales) {
    float[] x = n.length == rows * in ? n : Arrays.copyOf(n, rows * in);
    Int8Activations q = Int8Activations.quantize(x, rows, in);
    byte[] v = q.values();
    for (int i = 0; i < rows * in; i++) {
      n[i] = v[i];
    }
    for (int r = 0; r < rows; r++) {
      scales[r] = q.scale(r);
    }
  }

  private void backward(float[] p, Mlp.Snapshot snap, int rows, float[] grad) {
    for (int l = slots.size() - 1; l >= 0; l--) {
      MlpLayout.Slot s = slots.get(l);
      int in = s.in();
      int out = s.out();
      // bias: column sums of dz
      for (int o = 0; o < out; o++) {
        float sum = 0f;
        for (int r = 0; r < rows; r++) {
          sum += dz[r * out + o];
        }
        grad[s.bias() + o] = sum;
      }
      // weights (straight through to the latent weights): dW = dzᵀ · x_dequantized
      Gemm.transpose(dz, 0, rows, out, dzT, 0);
      Gemm.matmul(dzT, 0, norm[l], 0, grad, s.weight(), out, rows, in, false);
      if (l == 0) {
        break;
      }
      // input: dn = (dz ⊙ s_w) · q, passed straight through the activation quantizer
      float[] ws = snap.scales[l];
      for (int r = 0; r < rows; r++) {
        for (int o = 0; o < out; o++) {
          dzScaled[r * out + o] = dz[r * out + o] * ws[o];
        }
      }
      Gemm.matmul(dzScaled, 0, snap.rows[l], 0, dn, 0, rows, out, in, false);
      // RMSNorm with gain: n_i = h_i · r · g_i, r = 1/sqrt(mean(h²) + eps)
      float[] h = act[l];
      int g = s.gain();
      for (int i = 0; i < in; i++) {
        grad[g + i] = 0f;
      }
      for (int r = 0; r < rows; r++) {
        int base = r * in;
        float ri = rinv[l][r];
        float dot = 0f;
        for (int i = 0; i < in; i++) {
          float gdn = p[g + i] * dn[base + i];
          dot += gdn * h[base + i];
          grad[g + i] += dn[base + i] * h[base + i] * ri;
        }
        float coef = ri * ri * ri * dot / in;
        for (int i = 0; i < in; i++) {
          float dh = ri * p[g + i] * dn[base + i] - h[base + i] * coef;
          // ReLU of the previous layer: h > 0 exactly where its pre-activation was positive
          dz[base + i] = h[base + i] > 0f ? dh : 0f;
        }
      }
    }
  }
}
