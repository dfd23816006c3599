package dev.aphelion.core.trace;

/** Severity of a {@link TraceEvent}, from the most verbose ({@link #TRACE}) to {@link #ERROR}. */
public enum TraceLevel {
  /** Very fine detail, usually off. */
  TRACE,
  /** Diagnostic detail. */
  DEBUG,
  /** Normal progress: stages starting and finishing, digests computed. */
  INFO,
  /** Something unexpected that the run survived. */
  WARN,
  /** A failure. */
  ERROR;

  /**
   * Whether this level is at least as severe as {@code threshold}.
   *
   * @param threshold the minimum level
   * @return {@code true} if this level passes a filter set to {@code threshold}
   */
  public boolean isAtLeast(TraceLevel threshold) {
    return compareTo(threshold) >= 0;
  }
}
