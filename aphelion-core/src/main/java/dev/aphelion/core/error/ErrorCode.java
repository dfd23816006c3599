package dev.aphelion.core.error;

/**
 * Stable, machine-readable error codes. The string form ({@link #code()}) is part of the public
 * contract: it never changes once released, so callers and log processors may match on it.
 */
public enum ErrorCode {
  /** A configuration value is missing, has the wrong type or is out of range. */
  INVALID_CONFIG("APH-CONFIG"),
  /** A model graph is malformed: unknown node, duplicate id or edge, cycle. */
  GRAPH("APH-GRAPH"),
  /** A validator rejected its input. */
  VALIDATION("APH-VALIDATION"),
  /** A build pipeline stage or hook failed. */
  BUILD("APH-BUILD"),
  /** A backend is unknown, unavailable or failed. */
  BACKEND("APH-BACKEND"),
  /** Bytes could not be encoded or decoded (corrupt, truncated, wrong version). */
  SERIALIZATION("APH-SERIALIZATION"),
  /** An input or output operation failed. */
  IO("APH-IO"),
  /** A tensor or matrix has the wrong shape, or holds NaN or infinite values. */
  SHAPE("APH-SHAPE");

  private final String code;

  ErrorCode(String code) {
    this.code = code;
  }

  /** The stable string form, for example {@code APH-GRAPH}. */
  public String code() {
    return code;
  }
}
