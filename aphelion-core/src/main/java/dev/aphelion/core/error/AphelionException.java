package dev.aphelion.core.error;

/**
 * Root of Aphelion's unchecked exceptions. Every instance carries a stable {@link ErrorCode}; the
 * message is prefixed with that code so that logs stay greppable, and causes are always chained.
 */
public class AphelionException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorCode code;

  /**
   * Creates an exception.
   *
   * @param code the stable error code
   * @param message what went wrong, naming the offending value
   * @param cause the underlying failure, or {@code null}
   */
  public AphelionException(ErrorCode code, String message, Throwable cause) {
    super("[" + code.code() + "] " + message, cause);
    this.code = code;
  }

  /**
   * Creates an exception without a cause.
   *
   * @param code the stable error code
   * @param message what went wrong, naming the offending value
   */
  public AphelionException(ErrorCode code, String message) {
    this(code, message, null);
  }

  /** The stable error code. */
  public ErrorCode code() {
    return code;
  }
}
