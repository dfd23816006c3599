package dev.aphelion.examples.fashion.nn;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.ternary.TernaryQuantization;
import dev.aphelion.tritter.ternary.TernaryQuantized;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A multilayer perceptron's trainable state: its {@link MlpLayout} and one flat vector of latent
 * float parameters. For a {@link Precision#TERNARY} model the weights here are the latent
 * full-precision weights of quantization-aware training; {@link #snapshot()} derives the ternary
 * weights that the forward pass actually uses, with the library's absmean rule
 * ({@link TernaryQuantization#absmean}, one scale per output row).
 */
public final class Mlp {
  private final MlpLayout layout;
  private final List<MlpLayout.Slot> slots;
  private final float[] params;

  /**
   * Creates a model with He-initialized weights (normal, standard deviation {@code sqrt(2/in)}),
   * zero biases and unit gains.
   *
   * @param layout the shape
   * @param seed the random seed
   */
  public Mlp(MlpLayout layout, long seed) {
    this.layout = layout;
    this.slots = layout.slots();
    this.params = new float[layout.parameterCount()];
    SplittableRandom rnd = new SplittableRandom(seed);
    for (MlpLayout.Slot s : slots) {
      double std = Math.sqrt(2.0 / s.in());
      for (int i = 0; i < s.in() * s.out(); i++) {
        params[s.weight() + i] = (float) (gaussian(rnd) * std);
      }
      if (s.hasGain()) {
        Arrays.fill(params, s.gain(), s.gain() + s.in(), 1f);
      }
    }
  }

  private static double gaussian(SplittableRandom rnd) {
    // Box-Muller; SplittableRandom has no nextGaussian of its own before JDK 17's RandomGenerator.
    double u1 = 1.0 - rnd.nextDouble();
    double u2 = rnd.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** The shape. */
  public MlpLayout layout() {
    return layout;
  }

  /** Where each layer's parameters live in {@link #parameters()}. */
  public List<MlpLayout.Slot> slots() {
    return slots;
  }

  /**
   * The live flat parameter vector. The trainer's optimizer updates it in place; read it only
   * between steps.
   */
  public float[] parameters() {
    return params;
  }

  /**
   * Copies parameters in from another vector.
   *
   * @param source a vector of {@link MlpLayout#parameterCount()} values
   */
  public void load(float[] source) {
    if (source.length != params.length) {
      throw new ShapeException(
          "parameter vector has " + source.length + " values, expected " + params.length);
    }
    System.arraycopy(source, 0, params, 0, params.length);
  }

  /** The weights the forward pass uses right now (ternarized for a ternary model). */
  public Snapshot snapshot() {
    return Snapshot.of(this);
  }

  /**
   * The effective weights of every layer at one moment: for a ternary model the ternary values
   * (as floats in {-1, 0, 1}) and one scale per output row; for a float model the weights
   * themselves with unit scales. Both the row-major {@code [out × in]} form (for the backward
   * product) and its transpose {@code [in × out]} (for the forward product) are kept.
   */
  public static final class Snapshot {
    final float[][] rows;
    final float[][] transposed;
    final float[][] scales;
    final Precision precision;

    private Snapshot(int layers, Precision precision) {
      this.rows = new float[layers][];
      this.transposed = new float[layers][];
      this.scales = new float[layers][];
      this.precision = precision;
    }

    static Snapshot of(Mlp mlp) {
      Snapshot s = new Snapshot(mlp.layout.layers(), mlp.layout.precision());
      s.refresh(mlp);
      return s;
    }

    /**
     * Recomputes the effective weights from the model's current latent weights, reusing buffers.
     *
     * @param mlp the model this snapshot was taken of
     */
    public void refresh(Mlp mlp) {
      for (int l = 0; l < mlp.slots.size(); l++) {
        MlpLayout.Slot slot = mlp.slots.get(l);
        int n = slot.in() * slot.out();
        if (rows[l] == null) {
          rows[l] = new float[n];
          transposed[l] = new float[n];
          scales[l] = new float[slot.out()];
        }
        if (precision == Precision.TERNARY) {
          // the library's absmean rule, written straight into the trainer's buffers (it runs after
          // every optimizer step, where the library call's copies would cost more than the work)
          Gemm.ternarizeRows(mlp.params, slot.weight(), slot.out(), slot.in(), rows[l], scales[l]);
        } else {
          System.arraycopy(mlp.params, slot.weight(), rows[l], 0, n);
          Arrays.fill(scales[l], 1f);
        }
        Gemm.transpose(rows[l], 0, slot.out(), slot.in(), transposed[l], 0);
      }
    }

    /**
     * One ternary layer's trits and scales in the library's form, ready for
     * {@link TernaryQuantized#toPacked()}: exactly the values this snapshot's forward pass uses.
     *
     * @param layer the layer index
     * @return the quantized weights
     * @throws IllegalStateException for a float32 model
     */
    public TernaryQuantized quantized(int layer) {
      if (precision != Precision.TERNARY) {
        throw new IllegalStateException("a " + precision + " model has no ternary weights");
      }
      float[] r = rows[layer];
      byte[] trits = new byte[r.length];
      for (int i = 0; i < r.length; i++) {
        trits[i] = (byte) r[i];
      }
      int out = scales[layer].length;
      return new TernaryQuantized(trits, out, r.length / out, scales[layer].clone(), r.length / out);
    }

    /** The precision these weights were derived for. */
    public Precision precision() {
      return precision;
    }

    /**
     * One layer's effective weight values, row-major {@code [out × in]} (ternary values for a
     * ternary model). Shared, not copied.
     *
     * @param layer the layer index
     * @return the values
     */
    public float[] weights(int layer) {
      return rows[layer];
    }

    /**
     * One layer's per-row scales (all 1 for a float model). Shared, not copied.
     *
     * @param layer the layer index
     * @return the scales
     */
    public float[] scales(int layer) {
      return scales[layer];
    }
  }
}
