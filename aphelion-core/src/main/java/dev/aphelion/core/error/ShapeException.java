package dev.aphelion.core.error;

/** A tensor or matrix has the wrong shape or holds NaN or infinite values. */
public class ShapeException extends AphelionException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what went wrong, naming the offending value
   */
  public ShapeException(String message) {
    super(ErrorCode.SHAPE, message);
  }

  /**
   * Creates the exception with a cause.
   *
   * @param message what went wrong, naming the offending value
   * @param cause the underlying failure
   */
  public ShapeException(String message, Throwable cause) {
    super(ErrorCode.SHAPE, message, cause);
  }
}
