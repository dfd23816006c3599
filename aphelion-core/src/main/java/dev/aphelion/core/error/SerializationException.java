package dev.aphelion.core.error;

/** Bytes could not be encoded or decoded: corrupt, truncated or of an unknown version. */
public class SerializationException extends AphelionException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what went wrong, naming the offending value
   */
  public SerializationException(String message) {
    super(ErrorCode.SERIALIZATION, message);
  }

  /**
   * Creates the exception with a cause.
   *
   * @param message what went wrong, naming the offending value
   * @param cause the underlying failure
   */
  public SerializationException(String message, Throwable cause) {
    super(ErrorCode.SERIALIZATION, message, cause);
  }
}
