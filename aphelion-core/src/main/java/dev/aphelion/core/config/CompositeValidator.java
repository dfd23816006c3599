package dev.aphelion.core.config;

import dev.aphelion.core.error.ValidationException;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs several {@link ConfigValidator}s in order and collects every failure, so that one run
 * reports all problems instead of the first. {@link #check} throws a single {@link
 * ConfigValidationException} listing them all. A validator that itself throws is reported as a
 * failure of that validator and the others still run.
 */
public final class CompositeValidator implements ConfigValidator {
  private final List<ConfigValidator> validators;

  /**
   * Creates the composite.
   *
   * @param validators the validators, run in this order
   */
  public CompositeValidator(List<? extends ConfigValidator> validators) {
    this.validators = List.copyOf(validators);
  }

  /** The validators, in run order. */
  public List<ConfigValidator> validators() {
    return validators;
  }

  /**
   * A composite with one more validator at the end.
   *
   * @param validator the validator to add
   * @return the new composite
   */
  public CompositeValidator and(ConfigValidator validator) {
    List<ConfigValidator> all = new ArrayList<>(validators);
    all.add(validator);
    return new CompositeValidator(all);
  }

  /** Runs every validator and concatenates their failures, in order. */
  @Override
  public List<String> validate(ModelConfig config) {
    List<String> failures = new ArrayList<>();
    for (ConfigValidator v : validators) {
      try {
        failures.addAll(v.validate(config));
      } catch (RuntimeException e) {
        if (e instanceof ValidationException) {
          failures.add(e.getMessage());
        } else {
          failures.add("validator " + v + " failed: " + e);
        }
      }
    }
    return List.copyOf(failures);
  }
}
