package dev.aphelion.core.config;

/**
 * Which {@code serde_json} float text to reproduce. Both print the same shortest round-trip digits
 * with the same layout; they differ only in positive exponents of scientific notation, which
 * appear for {@code |x| >= 1e16}.
 *
 * <p>Choose the one the Rust side was built with (see {@code Cargo.lock}); the Rust-compatible
 * hash of a config holding such a double depends on it. Negative exponents ({@code 1e-7}) and
 * all plain forms are identical in both.
 */
public enum SerdeJsonFloats {
  /** serde_json 1.0.146 and earlier (the {@code ryu} crate): {@code 1e16}, {@code 1.5e300}. */
  RYU,
  /**
   * serde_json 1.0.147 and later (the {@code zmij} crate, December 2025): {@code 1e+16}, {@code
   * 1.5e+300}. The default, as it is what a fresh Rust build writes.
   */
  ZMIJ;

  /** What current serde_json writes: {@link #ZMIJ}. */
  public static final SerdeJsonFloats DEFAULT = ZMIJ;
}
