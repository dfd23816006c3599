package dev.aphelion.tritter.model;

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
}
