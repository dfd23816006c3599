package dev.aphelion.core.backend;

/** The kind of device a {@link Backend} computes on. */
public enum DeviceKind {
  /** The host CPU (scalar or SIMD). */
  CPU,
  /** A GPU or similar accelerator with its own memory. */
  GPU,
  /** No device at all: the backend computes nothing (see {@link NullBackend}). */
  VIRTUAL
}
