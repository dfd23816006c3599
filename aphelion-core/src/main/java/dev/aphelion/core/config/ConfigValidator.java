package dev.aphelion.core.config;

import java.util.List;

/**
 * Checks a config and reports every problem it finds, as human-readable messages naming the
 * offending key and value. An empty list means the config passed.
 *
 * <p>Validators do not throw for invalid configs; {@link CompositeValidator} runs several and
 * throws one {@link ConfigValidationException} listing all failures.
 */
@FunctionalInterface
public interface ConfigValidator {
  /**
   * Checks a config.
   *
   * @param config the config to check
   * @return the failures, empty when the config is valid
   */
  List<String> validate(ModelConfig config);

  /**
   * Combines validators into one that runs all of them and reports all failures.
   *
   * @param validators the validators, run in this order
   * @return the composite
   */
  static CompositeValidator all(ConfigValidator... validators) {
    return new CompositeValidator(List.of(validators));
  }

  /**
   * Runs this validator and throws if it reports any failure.
   *
   * @param config the config to check
   * @return {@code config}, for chaining
   * @throws ConfigValidationException listing every failure
   */
  default ModelConfig check(ModelConfig config) {
    List<String> failures = validate(config);
    if (!failures.isEmpty()) {
      throw new ConfigValidationException(config.name(), failures);
    }
    return config;
  }
}
