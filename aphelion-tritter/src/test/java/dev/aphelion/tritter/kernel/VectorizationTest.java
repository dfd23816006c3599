package dev.aphelion.tritter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.lang.invoke.MethodHandles;
import org.junit.jupiter.api.Test;

class VectorizationTest {

  /** Prints the process-wide choice; run in a child JVM with chosen flags. */
  public static final class PrintChoice {
    public static void main(String[] args) {
      try {
        System.out.println("CHOICE=" + Vectorization.get().mode());
      } catch (IllegalStateException e) {
        System.out.println("ERROR=" + e.getMessage());
      }
    }
  }

  @Test
  void vectorPathIsUsableInTheTestJvm() {
    // surefire passes --add-modules jdk.incubator.vector; if this fails the build is misconfigured
    assertTrue(Vectorization.vectorUnavailableReason().isEmpty(), () -> Vectorization.vectorUnavailableReason().get());
    Vectorization v = Vectorization.vector();
    assertEquals(Vectorization.Mode.VECTOR, v.mode());
    assertTrue(v.vectorBitSize() >= 128);
  }

  @Test
  void selectInstantiatesThePathsImplementation() {
    Runnable scalar = () -> {};
    assertEquals(scalar, Vectorization.scalar().select(Runnable.class, () -> scalar, MethodHandles.lookup(), "NoSuchClass"));
    IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
        () -> Vectorization.vector().select(Runnable.class, () -> scalar, MethodHandles.lookup(), "NoSuchClass"));
    assertTrue(e.getMessage().contains("dev.aphelion.tritter.kernel.NoSuchClass"), e.getMessage());
    Runnable vector = Vectorization.vector().select(Runnable.class, () -> scalar, MethodHandles.lookup(), "VectorizationTest$PackagePrivateKernel");
    assertEquals(PackagePrivateKernel.class, vector.getClass(), "a package-private class loads through its package's lookup");
  }

  /** Stands in for a package-private Vector API class. */
  static final class PackagePrivateKernel implements Runnable {
    PackagePrivateKernel() {}

    @Override
    public void run() {}
  }

  @Test
  void fallsBackToScalarWithOneWarningWithoutTheModule() throws Exception {
    Result r = runChild(List.of());
    assertTrue(r.stdout.contains("CHOICE=SCALAR"), r.toString());
    long warnings = r.stderr.lines().filter(l -> l.contains("falling back to the scalar path")).count();
    assertEquals(1, warnings, r.toString());
    assertTrue(r.stderr.contains("--add-modules jdk.incubator.vector"), r.toString());
  }

  @Test
  void autoChoosesVectorWithTheModule() throws Exception {
    Result r = runChild(List.of("--add-modules", "jdk.incubator.vector"));
    assertTrue(r.stdout.contains("CHOICE=VECTOR"), r.toString());
  }

  @Test
  void propertyForcesEitherPath() throws Exception {
    Result scalar = runChild(List.of("--add-modules", "jdk.incubator.vector", "-Daphelion.kernels=scalar"));
    assertTrue(scalar.stdout.contains("CHOICE=SCALAR"), scalar.toString());
    Result vectorWithout = runChild(List.of("-Daphelion.kernels=vector"));
    assertTrue(vectorWithout.stdout.contains("ERROR=") && vectorWithout.stdout.contains("jdk.incubator.vector"), vectorWithout.toString());
    Result bogus = runChild(List.of("-Daphelion.kernels=gpu"));
    assertTrue(bogus.stdout.contains("unknown value 'gpu'"), bogus.toString());
  }

  private record Result(String stdout, String stderr) {}

  private static Result runChild(List<String> jvmArgs) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.add("-Xshare:auto");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(PrintChoice.class.getName());
    Process p = new ProcessBuilder(cmd).start();
    byte[] out = p.getInputStream().readAllBytes();
    byte[] err = p.getErrorStream().readAllBytes();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM timed out");
    return new Result(new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
  }
}
