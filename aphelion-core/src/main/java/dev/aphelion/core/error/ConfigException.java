package dev.aphelion.core.error;

/** A configuration value is missing, mistyped or out of range. */
public class ConfigException extends AphelionException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what went wrong, naming the offending value
   */
  public ConfigException(String message) {
    super(ErrorCode.INVALID_CONFIG, message);
  }

  /**
   * Creates the exception with a cause.
   *
   * @param message what went wrong, naming the offending value
   * @param cause the underlying failure
   */
  public ConfigException(String message, Throwable cause) {
    super(ErrorCode.INVALID_CONFIG, message, cause);
  }
}
