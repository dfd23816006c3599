package dev.aphelion.core.backend;

import java.util.Objects;

/**
 * Whether a backend can be used here, with a human-readable reason either way (for example
 * "Vector API available, 512-bit vectors" or "libcuda.so not found: install the NVIDIA driver").
 *
 * @param available whether the backend can be created and used
 * @param reason why, in words; never blank
 */
public record Availability(boolean available, String reason) {

  /** Checks that a reason is given. */
  public Availability {
    Objects.requireNonNull(reason, "reason");
    if (reason.isBlank()) {
      throw new IllegalArgumentException("an availability needs a reason");
    }
  }

  /**
   * An available result.
   *
   * @param reason what was found, for example the device name
   * @return the availability
   */
  public static Availability available(String reason) {
    return new Availability(true, reason);
  }

  /**
   * An unavailable result.
   *
   * @param reason what is missing and, where possible, how to fix it
   * @return the availability
   */
  public static Availability unavailable(String reason) {
    return new Availability(false, reason);
  }

  /**
   * An unavailable result caused by an exception; the reason names the exception and its message.
   *
   * @param what what was being checked, for example "loading libcuda"
   * @param cause the failure
   * @return the availability
   */
  public static Availability unavailable(String what, Throwable cause) {
    return new Availability(false, what + " failed: " + describe(cause));
  }

  static String describe(Throwable t) {
    String msg = t.getMessage();
    return t.getClass().getName() + (msg == null ? "" : ": " + msg);
  }

  @Override
  public String toString() {
    return (available ? "available" : "unavailable") + " (" + reason + ")";
  }
}
