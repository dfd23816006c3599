package dev.aphelion.tritter.compress;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ShapeException;
import org.junit.jupiter.api.Test;

/** Regressions for misuse of a compressor: sizes it cannot hold. */
class GradientCompressorSafetyTest {

  /** A compressor for 2^31-1 parameters threw OutOfMemoryError ("Requested array size exceeds VM limit"). */
  @Test
  void hugeDimensionIsAClearError() {
    ShapeException e = assertThrows(ShapeException.class, () -> new GradientCompressor(CompressionConfig.defaults(), Integer.MAX_VALUE));
    assertTrue(e.getMessage().contains("split the parameters"), e.getMessage());
  }

  @Test
  void dimensionBeyondTheHeapIsAClearError() {
    assumeTrue(Runtime.getRuntime().maxMemory() < 4L * GradientCompressor.MAX_DIMENSION, "the heap could hold it");
    ConfigException e = assertThrows(ConfigException.class,
        () -> new GradientCompressor(CompressionConfig.defaults(), GradientCompressor.MAX_DIMENSION));
    assertTrue(e.getMessage().contains("-Xmx"), e.getMessage());
  }
}
