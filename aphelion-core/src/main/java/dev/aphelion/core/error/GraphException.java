package dev.aphelion.core.error;

/** A model graph is malformed (unknown node, duplicate, cycle). */
public class GraphException extends AphelionException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what went wrong, naming the offending value
   */
  public GraphException(String message) {
    super(ErrorCode.GRAPH, message);
  }

  /**
   * Creates the exception with a cause.
   *
   * @param message what went wrong, naming the offending value
   * @param cause the underlying failure
   */
  public GraphException(String message, Throwable cause) {
    super(ErrorCode.GRAPH, message, cause);
  }
}
