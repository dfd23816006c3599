package dev.aphelion.tritter.ternary;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The 512-bit (AVX-512 class) path, where the CPU has it: a child JVM with no vector flags runs
 * {@link Vector256KernelsTest.Child}'s comparisons (odd shapes, edge values, every token tile, a
 * repeated larger shape so that C2 compiles the vector loops) and must pick the 512-bit table
 * kernels, the four-token form from four tokens on (also at 16: the activation-parallel kernel runs
 * only on 256-bit vectors), bit-identical to the scalar reference; the activation-parallel kernel's
 * 512-bit form, called directly, too.
 */
class Vector512KernelsTest {

  @Test
  void kernelsRunOn512BitVectorsAndMatchTheScalarReference() throws Exception {
    String s = Vector256KernelsTest.runChild();
    // a CPU without 512-bit vectors cannot test this path (Vector256KernelsTest covers its own)
    Assumptions.assumeTrue(s.contains("PREFERRED=512"), s);
    assertTrue(s.contains("MODE=VECTOR"), s);
    assertTrue(s.contains("INT8_BITS=512"), s);
    assertTrue(s.contains("FLOAT_BITS=512"), s);
    assertTrue(s.contains("INT8_KERNEL_ONE_GROUP=lut512"), s);
    assertTrue(s.contains("INT8_KERNEL_GROUP_4=lut512"), s);
    assertTrue(s.contains("INT8_KERNEL_BATCH_8=lut512x4"), s);
    assertTrue(s.contains("INT8_KERNEL_BATCH_16=lut512x4"), s);
    assertTrue(s.contains("LUT_BITS=512"), s);
    assertTrue(s.contains("LUT_MISMATCHES=0"), s);
    assertTrue(s.contains(" MISMATCHES=0"), s);
    assertTrue(!s.contains("MISMATCH "), s);
  }
}
