package dev.aphelion.examples.fashion.nn;

import dev.aphelion.core.error.ConfigException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The shape of a BitNet-style multilayer perceptron and where each parameter lives in one flat
 * {@code float[]}.
 *
 * <p>Every layer is {@code RMSNorm → linear → ReLU} (no ReLU after the last): the norm keeps the
 * input of each quantizer at a steady scale, as BitNet's {@code BitLinear} does. Per layer the
 * flat vector holds the weight matrix {@code [out × in]} (row-major), the bias {@code [out]}
 * and, for every layer but the first, the norm's gain {@code [in]} (the first layer's norm has no
 * gain: a learned scale per pixel adds nothing before a linear layer and would cost a full
 * backward product through the widest matrix).
 *
 * @param sizes layer widths, input first, for example {@code [784, 256, 128, 10]}
 * @param precision how the linear layers compute
 */
public record MlpLayout(int[] sizes, Precision precision) {

  /**
   * Where one layer's parameters start in the flat vector.
   *
   * @param in input width
   * @param out output width
   * @param weight offset of the {@code out × in} weight matrix
   * @param bias offset of the {@code out} biases
   * @param gain offset of the {@code in} norm gains, or -1 where the norm has none
   */
  public record Slot(int in, int out, int weight, int bias, int gain) {
    /** Whether this layer's norm has a learned gain. */
    public boolean hasGain() {
      return gain >= 0;
    }
  }

  /** Validates the widths. */
  public MlpLayout {
    if (sizes.length < 2) {
      throw new ConfigException("an MLP needs at least an input and an output width: "
          + Arrays.toString(sizes));
    }
    for (int s : sizes) {
      if (s <= 0) {
        throw new ConfigException("layer widths must be positive: " + Arrays.toString(sizes));
      }
    }
    sizes = sizes.clone();
    if (precision == null) {
      throw new ConfigException("precision must be given");
    }
  }

  /** The layer widths, input first (a copy). */
  @Override
  public int[] sizes() {
    return sizes.clone();
  }

  /** The number of linear layers. */
  public int layers() {
    return sizes.length - 1;
  }

  /** The input width. */
  public int inputs() {
    return sizes[0];
  }

  /** The output width (the number of classes). */
  public int outputs() {
    return sizes[sizes.length - 1];
  }

  /** The widest layer input or output. */
  public int maxWidth() {
    return Arrays.stream(sizes).max().orElseThrow();
  }

  /** Where each layer's parameters live. */
  public List<Slot> slots() {
    List<Slot> slots = new ArrayList<>();
    int offset = 0;
    for (int l = 0; l < layers(); l++) {
      int in = sizes[l];
      int out = sizes[l + 1];
      int w = offset;
      offset += in * out;
      int b = offset;
      offset += out;
      int g = -1;
      if (l > 0) {
        g = offset;
        offset += in;
      }
      slots.add(new Slot(in, out, w, b, g));
    }
    return List.copyOf(slots);
  }

  /** The length of the flat parameter (and gradient) vector. */
  public int parameterCount() {
    Slot last = slots().getLast();
    return last.hasGain() ? last.gain() + last.in() : last.bias() + last.out();
  }

  /** The number of weights in the linear layers' matrices (biases and gains not counted). */
  public long weightCount() {
    long n = 0;
    for (int l = 0; l < layers(); l++) {
      n += (long) sizes[l] * sizes[l + 1];
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MlpLayout other
        && Arrays.equals(sizes, other.sizes)
        && precision == other.precision;
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(sizes) + precision.hashCode();
  }

  @Override
  public String toString() {
    return "MLP " + Arrays.toString(sizes) + " " + precision;
  }
}
