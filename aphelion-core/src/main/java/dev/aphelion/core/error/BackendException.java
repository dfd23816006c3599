package dev.aphelion.core.error;

/** A backend is unknown, unavailable or failed. */
public class BackendException extends AphelionException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what went wrong, naming the offending value
   */
  public BackendException(String message) {
    super(ErrorCode.BACKEND, message);
  }

  /**
   * Creates the exception with a cause.
   *
   * @param message what went wrong, naming the offending value
   * @param cause the underlying failure
   */
  public BackendException(String message, Throwable cause) {
    super(ErrorCode.BACKEND, message, cause);
  }
}
