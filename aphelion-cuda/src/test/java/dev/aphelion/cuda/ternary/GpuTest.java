package dev.aphelion.cuda.ternary;

import dev.aphelion.cuda.driver.CudaDriver;
import org.junit.jupiter.api.Assumptions;

/** Skips a GPU test, with the reason, where no usable CUDA device exists. */
final class GpuTest {

  private GpuTest() {}

  static void assumeGpu() {
    CudaDriver.Probe p = CudaDriver.probe();
    Assumptions.assumeTrue(p.available(), () -> "skipped, no usable CUDA device: " + p.reason());
  }
}
