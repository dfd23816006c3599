package dev.aphelion.tritter.nn;

import dev.aphelion.core.error.ShapeException;

/** Argument checks shared by the layer implementations. */
final class LayerChecks {
  private LayerChecks() {}

  static void checkWeights(String kind, float[] weights, int out, int in, float[] bias) {
    if (out <= 0 || in <= 0) {
      throw new ShapeException(kind + " layer needs positive dimensions, got [" + out + ", " + in + "]");
    }
    if ((long) out * in != weights.length) {
      throw new ShapeException(kind + " layer of shape [" + out + ", " + in + "] needs " + (long) out * in + " weights, got " + weights.length);
    }
    for (int i = 0; i < weights.length; i++) {
      if (!Float.isFinite(weights[i])) {
        throw new ShapeException(kind + " layer weight [" + i / in + ", " + i % in + "] is " + weights[i]);
      }
    }
    checkBias(kind, bias, out);
  }

  static void checkBias(String kind, float[] bias, int out) {
    if (bias != null) {
      if (bias.length != out) {
        throw new ShapeException(kind + " layer with " + out + " outputs needs " + out + " biases, got " + bias.length);
      }
      for (int i = 0; i < bias.length; i++) {
        if (!Float.isFinite(bias[i])) {
          throw new ShapeException(kind + " layer bias [" + i + "] is " + bias[i]);
        }
      }
    }
  }

  static void checkForward(float[] x, float[] y, int rows, int in, int out) {
    if (rows <= 0) {
      throw new ShapeException("rows must be positive, got " + rows);
    }
    if (x.length < (long) rows * in) {
      throw new ShapeException("input has " + x.length + " floats, " + rows + " rows of " + in + " need " + (long) rows * in);
    }
    if (y.length < (long) rows * out) {
      throw new ShapeException("output has " + y.length + " floats, " + rows + " rows of " + out + " need " + (long) rows * out);
    }
  }
}
