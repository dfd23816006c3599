package dev.aphelion.core.error;

import java.util.Optional;

/** A build pipeline stage or hook failed; names the stage (when known) and chains the cause. */
public class BuildException extends AphelionException {
  private static final long serialVersionUID = 1L;

  private final String stage;

  /**
   * Creates the exception.
   *
   * @param stage the name of the failing stage or hook, or {@code null} when not tied to one
   * @param message what went wrong
   * @param cause the underlying failure, or {@code null}
   */
  public BuildException(String stage, String message, Throwable cause) {
    super(ErrorCode.BUILD, stage == null ? message : "stage '" + stage + "': " + message, cause);
    this.stage = stage;
  }

  /** The failing stage or hook, if the failure is tied to one. */
  public Optional<String> stage() {
    return Optional.ofNullable(stage);
  }
}
