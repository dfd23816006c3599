package dev.aphelion.tritter.train;

import dev.aphelion.core.error.ConfigException;
import java.io.Serializable;

/**
 * The settings of an optimizer, serializable so that remote workers can create identical ones.
 */
public sealed interface OptimizerConfig extends Serializable permits OptimizerConfig.AdamW, OptimizerConfig.Sgd {

  /**
   * A new optimizer with fresh state.
   *
   * @param size the number of parameters
   * @return the optimizer
   */
  Optimizer create(int size);

  /**
   * Adam with decoupled weight decay (Loshchilov and Hutter).
   *
   * @param beta1 decay of the first moment, in [0, 1)
   * @param beta2 decay of the second moment, in [0, 1)
   * @param eps added to the root of the second moment, positive
   * @param weightDecay decoupled weight decay per unit learning rate, 0 for plain Adam
   */
  record AdamW(float beta1, float beta2, float eps, float weightDecay) implements OptimizerConfig {
    /** Checks the ranges. */
    public AdamW {
      if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps > 0) || !(weightDecay >= 0)) {
        throw new ConfigException("AdamW needs 0 <= beta < 1, eps > 0, weightDecay >= 0: beta1=" + beta1 + " beta2="
            + beta2 + " eps=" + eps + " weightDecay=" + weightDecay);
      }
    }

    /**
     * The usual defaults: betas 0.9 and 0.999, eps 1e-8.
     *
     * @param weightDecay decoupled weight decay
     * @return the settings
     */
    public static AdamW defaults(float weightDecay) {
      return new AdamW(0.9f, 0.999f, 1e-8f, weightDecay);
    }

    @Override
    public Optimizer create(int size) {
      return new dev.aphelion.tritter.train.AdamW(size, this);
    }
  }

  /**
   * Stochastic gradient descent with (heavy-ball) momentum: {@code v ← μ v + g + λ p},
   * {@code p ← p − lr · v}.
   *
   * @param momentum the momentum {@code μ}, in [0, 1)
   * @param weightDecay L2 weight decay {@code λ}, 0 for none
   */
  record Sgd(float momentum, float weightDecay) implements OptimizerConfig {
    /** Checks the ranges. */
    public Sgd {
      if (!(momentum >= 0 && momentum < 1) || !(weightDecay >= 0)) {
        throw new ConfigException("SGD needs 0 <= momentum < 1 and weightDecay >= 0: momentum=" + momentum
            + " weightDecay=" + weightDecay);
      }
    }

    @Override
    public Optimizer create(int size) {
      return new SgdMomentum(size, this);
    }
  }
}
