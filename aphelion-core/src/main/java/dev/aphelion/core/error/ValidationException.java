package dev.aphelion.core.error;

/** A validator rejected its input. */
public class ValidationException extends AphelionException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what went wrong, naming the offending value
   */
  public ValidationException(String message) {
    super(ErrorCode.VALIDATION, message);
  }

  /**
   * Creates the exception with a cause.
   *
   * @param message what went wrong, naming the offending value
   * @param cause the underlying failure
   */
  public ValidationException(String message, Throwable cause) {
    super(ErrorCode.VALIDATION, message, cause);
  }
}
