package dev.aphelion.core.config;

import dev.aphelion.core.error.ValidationException;
import java.util.List;

/**
 * A config failed validation; carries every failure, not just the first. The message lists them
 * all, one per line.
 */
public final class ConfigValidationException extends ValidationException {
  private static final long serialVersionUID = 1L;

  /** The name of the rejected config. */
  private final String configName;

  /** Every failure, in report order (an immutable, serializable list). */
  private final List<String> failures;

  /**
   * Creates the exception.
   *
   * @param configName the name of the rejected config
   * @param failures the failures, at least one
   */
  public ConfigValidationException(String configName, List<String> failures) {
    super(message(configName, failures));
    this.configName = configName;
    this.failures = List.copyOf(failures);
  }

  private static String message(String configName, List<String> failures) {
    StringBuilder sb = new StringBuilder("config '").append(configName).append("' has ");
    sb.append(failures.size()).append(failures.size() == 1 ? " problem:" : " problems:");
    for (String f : failures) {
      sb.append("\n  - ").append(f);
    }
    return sb.toString();
  }

  /** The name of the rejected config. */
  public String configName() {
    return configName;
  }

  /** Every failure, in the order the validators reported them. */
  public List<String> failures() {
    return failures;
  }
}
