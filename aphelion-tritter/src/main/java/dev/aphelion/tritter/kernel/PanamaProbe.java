package dev.aphelion.tritter.kernel;

import jdk.incubator.vector.VectorShape;

/** Touches the Vector API; loaded by name only, so a missing module cannot break class loading elsewhere. */
final class PanamaProbe {
  private PanamaProbe() {}

  /** The preferred vector size of this CPU in bits; called reflectively. */
  public static int preferredBitSize() {
    return VectorShape.preferredShape().vectorBitSize();
  }
}
