package dev.aphelion.tritter.io;

import dev.aphelion.tritter.ternary.PackedTernary;
import java.util.Optional;

/**
 * Where a model's tensors come from: a checkpoint, a map, or a seeded random generator. Names
 * follow the Hugging Face LLaMA convention ({@code model.layers.3.self_attn.q_proj.weight}).
 */
public interface WeightSource {

  /**
   * Reads a float tensor and checks its shape.
   *
   * @param name the tensor name
   * @param shape the expected dimensions
   * @return the values, row-major
   * @throws dev.aphelion.core.error.ShapeException if the shape differs
   * @throws dev.aphelion.core.error.SerializationException if the tensor is missing
   */
  float[] floats(String name, long... shape);

  /**
   * A packed ternary matrix stored under {@code prefix} (the projection name without {@code
   * .weight}), if the source has one.
   *
   * @param prefix for example {@code model.layers.0.mlp.up_proj}
   * @param rows expected rows
   * @param cols expected columns
   * @return the matrix, or empty when the source holds only float weights for it
   */
  default Optional<PackedTernary> packed(String prefix, int rows, int cols) {
    return Optional.empty();
  }

  /** Whether a tensor of this name exists (used for optional tensors such as biases). */
  boolean contains(String name);

  /**
   * A source over in-memory tensors. Shapes are checked by element count only (a map carries
   * none).
   *
   * @param tensors name to row-major values; not copied
   * @return the source
   */
  static WeightSource ofMap(java.util.Map<String, float[]> tensors) {
    java.util.Objects.requireNonNull(tensors, "tensors");
    return new WeightSource() {
      @Override
      public float[] floats(String name, long... shape) {
        float[] v = tensors.get(name);
        if (v == null) {
          throw new dev.aphelion.core.error.SerializationException("missing tensor '" + name + "' (the map has " + tensors.size() + " tensors)");
        }
        long n = 1;
        for (long d : shape) {
          n *= d;
        }
        if (v.length != n) {
          throw new dev.aphelion.core.error.ShapeException("tensor '" + name + "' has " + v.length + " values, shape "
              + java.util.Arrays.toString(shape) + " needs " + n);
        }
        return v;
      }

      @Override
      public boolean contains(String name) {
        return tensors.containsKey(name);
      }
    };
  }

  /**
   * This source with {@code prefix} prepended to every name (for a model stored under a graph
   * node's id, for example {@code decoder.model.norm.weight}).
   *
   * @param prefix the prefix, for example {@code "decoder."}
   * @return the prefixed view
   */
  default WeightSource withPrefix(String prefix) {
    WeightSource self = this;
    return new WeightSource() {
      @Override
      public float[] floats(String name, long... shape) {
        return self.floats(prefix + name, shape);
      }

      @Override
      public Optional<PackedTernary> packed(String p, int rows, int cols) {
        return self.packed(prefix + p, rows, cols);
      }

      @Override
      public boolean contains(String name) {
        return self.contains(prefix + name);
      }
    };
  }
}
