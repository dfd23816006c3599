package dev.aphelion.tritter.train;

import java.io.Serializable;
import java.util.SplittableRandom;

/**
 * One layer of a {@link Sequential} model, with a forward and a backward pass over a batch of rows.
 *
 * <p>A layer owns no parameters: they live in the model's flat parameter vector at an offset the
 * model assigns, so that optimizers, gradient exchange and checkpoints see one {@code float[]}. A
 * layer instance keeps what its backward pass needs from the last forward pass, so one instance
 * serves one worker; {@link Sequential#copy()} makes fresh instances for another worker. Layers
 * are serializable (their caches are not) so that a model can be shipped to remote workers.
 */
public interface TrainableLayer extends Serializable {

  /** The input width. */
  int inFeatures();

  /** The output width. */
  int outFeatures();

  /** How many values of the flat parameter vector this layer uses (0 for an activation). */
  int parameterCount();

  /**
   * Writes initial parameters.
   *
   * @param params the model's parameter vector
   * @param offset where this layer's parameters start
   * @param random the model's seeded random source
   */
  void initialize(float[] params, int offset, SplittableRandom random);

  /**
   * Computes {@code rows} output rows from {@code rows} input rows and keeps what
   * {@link #backward} needs.
   *
   * @param params the model's parameter vector
   * @param offset where this layer's parameters start
   * @param x {@code rows × inFeatures()} inputs, row-major
   * @param rows the number of rows, at least 1
   * @return {@code rows × outFeatures()} outputs (a new or reused array, exactly that long)
   */
  float[] forward(float[] params, int offset, float[] x, int rows);

  /**
   * Back-propagates through the last {@link #forward} call: adds this layer's parameter gradient
   * into {@code grads} and returns the gradient with respect to its input.
   *
   * @param params the model's parameter vector (as in the forward pass)
   * @param grads the model's gradient vector, accumulated into at {@code offset}
   * @param offset where this layer's parameters start
   * @param dy {@code rows × outFeatures()} gradient of the loss with respect to the outputs
   * @param rows the number of rows of the forward pass
   * @param needInput whether the input gradient is needed (false for the first layer)
   * @return {@code rows × inFeatures()} input gradient, or null when {@code needInput} is false
   */
  float[] backward(float[] params, float[] grads, int offset, float[] dy, int rows, boolean needInput);

  /**
   * The same layer without cached activations, for another worker.
   *
   * @return a fresh instance with the same configuration
   */
  TrainableLayer fresh();

  /**
   * The inference form of this layer with the given parameters.
   *
   * @param params the model's parameter vector
   * @param offset where this layer's parameters start
   * @return the inference stage
   */
  InferenceNetwork.Stage export(float[] params, int offset);
}
