package dev.aphelion.tritter.compress;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The sketch kernels' bit-for-bit comparison with the scalar reference ({@link
 * VsaSketchTest#kernelsAgreeBitForBitOnOddSizes}: binding, the fused residual update, unbinding
 * from buckets and from packed trits, lane sums, ternarization, expansion) in child JVMs whose
 * vectors are 256 bits (AVX2 instructions only, or AVX-512 instructions on 256-bit vectors) and
 * 128 bits, so that every lane count the kernels meet is run on every machine.
 */
class SketchKernelWidthsTest {

  /** Runs the comparison in this JVM; prints the float lane count, then OK. */
  public static final class Child {
    public static void main(String[] args) {
      new VsaSketchTest().kernelsAgreeBitForBitOnOddSizes();
      System.out.println("OK lanes=" + FloatVector.SPECIES_PREFERRED.length());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"-XX:UseAVX=2", "-XX:MaxVectorSize=32", "-XX:MaxVectorSize=16"})
  void kernelsAgreeAtThisWidth(String flag) throws Exception {
    String exe = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(exe, "-Xshare:auto", "--add-modules", "jdk.incubator.vector", flag,
        "-cp", System.getProperty("java.class.path"), Child.class.getName()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM timed out");
    assertTrue(out.contains("OK lanes=" + (flag.endsWith("16") ? 4 : 8)), flag + ":\n" + out);
  }
}
