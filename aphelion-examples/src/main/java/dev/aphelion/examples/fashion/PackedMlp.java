package dev.aphelion.examples.fashion;

import dev.aphelion.core.error.ShapeException;
import dev.aphelion.examples.fashion.nn.Mlp;
import dev.aphelion.examples.fashion.nn.MlpLayout;
import dev.aphelion.examples.fashion.nn.Precision;
import dev.aphelion.examples.fashion.nn.RmsNorm;
import dev.aphelion.tritter.nn.DenseLayer;
import dev.aphelion.tritter.nn.LinearLayer;
import dev.aphelion.tritter.nn.TernaryLayer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A trained {@link Mlp} turned into the library's inference layers: {@link TernaryLayer}s (2-bit
 * packed weights, int8 activations) for a ternary model, {@link DenseLayer}s for a float32 one.
 * Each layer is {@code RMSNorm → linear → ReLU} as in training, so the packed model computes the
 * trained model's function; its weights no longer change.
 *
 * <p>{@link #logits} is thread-safe: it allocates its scratch per call, and the layers are
 * immutable.
 */
public final class PackedMlp {
  private record Stage(float[] gain, LinearLayer layer) {}

  private final MlpLayout layout;
  private final List<Stage> stages;

  private PackedMlp(MlpLayout layout, List<Stage> stages) {
    this.layout = layout;
    this.stages = List.copyOf(stages);
  }

  /**
   * Packs a model: each ternary layer from the very trits and scales its last training step used
   * ({@code Mlp.Snapshot.quantized}), each float32 layer from its weights.
   *
   * @param mlp the trained model
   * @return the inference model
   */
  public static PackedMlp of(Mlp mlp) {
    Mlp.Snapshot snap = mlp.snapshot();
    float[] p = mlp.parameters();
    List<Stage> stages = new ArrayList<>();
    List<MlpLayout.Slot> slots = mlp.slots();
    for (int l = 0; l < slots.size(); l++) {
      MlpLayout.Slot s = slots.get(l);
      float[] bias = Arrays.copyOfRange(p, s.bias(), s.bias() + s.out());
      float[] gain = s.hasGain() ? Arrays.copyOfRange(p, s.gain(), s.gain() + s.in()) : null;
      LinearLayer layer = mlp.layout().precision() == Precision.TERNARY
          ? TernaryLayer.of(snap.quantized(l).toPacked(), bias, TernaryLayer.Activations.INT8)
          : DenseLayer.of(Arrays.copyOfRange(p, s.weight(), s.weight() + s.in() * s.out()),
              s.out(), s.in(), bias);
      stages.add(new Stage(gain, layer));
    }
    return new PackedMlp(mlp.layout(), stages);
  }

  /** The model's shape and precision. */
  public MlpLayout layout() {
    return layout;
  }

  /** The library layers, input first. */
  public List<LinearLayer> layers() {
    return stages.stream().map(Stage::layer).toList();
  }

  /**
   * Bytes of the linear layers' weights as stored: packed trits plus their scales for ternary
   * layers, 4 bytes per weight for float32 ones (biases and norm gains not counted).
   */
  public long weightBytes() {
    long b = 0;
    for (Stage s : stages) {
      b += switch (s.layer()) {
        case TernaryLayer t -> t.packed().memoryBytes();
        case DenseLayer d -> (long) d.inFeatures() * d.outFeatures() * Float.BYTES;
      };
    }
    return b;
  }

  /** Bytes of the float32 biases and norm gains, the same for both precisions. */
  public long otherParameterBytes() {
    long b = 0;
    for (Stage s : stages) {
      b += (long) s.layer().outFeatures() * Float.BYTES;
      if (s.gain() != null) {
        b += (long) s.gain().length * Float.BYTES;
      }
    }
    return b;
  }

  /**
   * Computes logits for a batch.
   *
   * @param x {@code rows × inputs} pixels, row-major, from {@code offset}
   * @param offset where the batch starts in {@code x}
   * @param rows the batch size
   * @param out receives {@code rows × outputs} logits
   */
  public void logits(float[] x, int offset, int rows, float[] out) {
    if (rows <= 0 || offset < 0 || offset + (long) rows * layout.inputs() > x.length
        || out.length < rows * layout.outputs()) {
      throw new ShapeException("batch of " + rows + " rows from " + offset + " does not fit input "
          + x.length + " / output " + out.length);
    }
    float[] h = Arrays.copyOfRange(x, offset, offset + rows * layout.inputs());
    for (int l = 0; l < stages.size(); l++) {
      Stage s = stages.get(l);
      int in = s.layer().inFeatures();
      int o = s.layer().outFeatures();
      for (int r = 0; r < rows; r++) {
        RmsNorm.apply(h, r * in, in, s.gain(), 0, h, r * in);
      }
      float[] y = new float[rows * o];
      s.layer().forward(h, y, rows);
      if (l < stages.size() - 1) {
        for (int i = 0; i < y.length; i++) {
          y[i] = Math.max(y[i], 0f);
        }
      }
      h = y;
    }
    System.arraycopy(h, 0, out, 0, rows * layout.outputs());
  }

  /**
   * Classifies a data set and counts the hits.
   *
   * @param data the examples
   * @param batch images per forward call
   * @return the fraction classified correctly
   */
  public double accuracy(LabeledImages data, int batch) {
    int k = layout.outputs();
    float[] logits = new float[batch * k];
    int correct = 0;
    for (int s = 0; s < data.count(); s += batch) {
      int rows = Math.min(batch, data.count() - s);
      logits(data.pixels(), s * data.features(), rows, logits);
      for (int r = 0; r < rows; r++) {
        int best = 0;
        for (int c = 1; c < k; c++) {
          if (logits[r * k + c] > logits[r * k + best]) {
            best = c;
          }
        }
        if (best == data.labels()[s + r]) {
          correct++;
        }
      }
    }
    return (double) correct / data.count();
  }

  /**
   * Measures inference throughput: classifies the data set in batches again and again for at
   * least {@code minSeconds}, after warm-up passes for half as long (so that the JIT has compiled
   * the kernels), and returns images per second.
   *
   * @param data the images
   * @param batch images per forward call
   * @param minSeconds how long to measure
   * @return images per second
   */
  public double imagesPerSecond(LabeledImages data, int batch, double minSeconds) {
    float[] logits = new float[batch * layout.outputs()];
    Runnable pass = () -> {
      for (int s = 0; s < data.count(); s += batch) {
        logits(data.pixels(), s * data.features(), Math.min(batch, data.count() - s), logits);
      }
    };
    long w0 = System.nanoTime();
    do {
      pass.run();
    } while (System.nanoTime() - w0 < minSeconds * 0.5e9);
    long images = 0;
    long t0 = System.nanoTime();
    long t;
    do {
      pass.run();
      images += data.count();
      t = System.nanoTime();
    } while (t - t0 < minSeconds * 1e9);
    return images / ((t - t0) / 1e9);
  }
}
