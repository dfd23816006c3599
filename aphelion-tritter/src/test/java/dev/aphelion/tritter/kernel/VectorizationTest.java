package dev.aphelion.tritter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.backend.BackendRegistry;
import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.BackendException;
import dev.aphelion.tritter.ternary.TernaryMatmul;
import dev.aphelion.tritter.ternary.TernaryQuantization;
import java.io.File;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class VectorizationTest {

  /** Prints the process-wide choice; run in a child JVM with chosen flags. */
  public static final class PrintChoice {
    public static void main(String[] args) {
      if (args.length > 0 && args[0].equals("recover")) {
        recover();
        return;
      }
      try {
        System.out.println("CHOICE=" + Vectorization.get().mode());
      } catch (AphelionException e) {
        System.out.println("ERROR=" + e.code().code() + " " + e.getMessage());
      }
    }

    /** A bad switch is an error at first use; after it is corrected the library works. */
    private static void recover() {
      try {
        System.out.println("SELECT1=chose " + BackendRegistry.load().selectDefault().name());
      } catch (BackendException e) {
        System.out.println("SELECT1=" + e.getMessage().replace('\n', '|'));
      }
      try {
        TernaryMatmul.get();
        System.out.println("MATMUL1=ok");
      } catch (AphelionException e) {
        System.out.println("MATMUL1=" + e.code().code());
      }
      System.setProperty(Vectorization.KERNELS_PROPERTY, "auto");
      System.out.println("SELECT2=" + BackendRegistry.load().selectDefault().name());
      float[] y = new float[1];
      TernaryMatmul.get().gemv(TernaryQuantization.absmean(new float[] {2f, -2f}, 1, 2, 2).toPacked(), new float[] {1f, 0f}, y);
      System.out.println("MATMUL2=" + y[0]);
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
    assertTrue(bogus.stdout.contains("ERROR=APH-CONFIG") && bogus.stdout.contains("unknown value 'gpu'"), bogus.toString());
  }

  @Test
  void aBadSwitchIsABackendErrorListingTheProviderAndTheLibraryRecoversOnceFixed() throws Exception {
    Result r = runChild(List.of("--add-modules", "jdk.incubator.vector", "-Daphelion.kernels=gpu"), "recover");
    String select = r.stdout.lines().filter(l -> l.startsWith("SELECT1=")).findFirst().orElse("");
    assertTrue(select.contains("no computing backend is usable"), r.toString());
    assertTrue(select.contains("tritter-accel") && select.contains("unknown value 'gpu'"), r.toString());
    assertTrue(select.contains("null"), "the null backend is listed but not chosen: " + r);
    assertTrue(r.stdout.contains("MATMUL1=APH-CONFIG"), r.toString());
    assertTrue(r.stdout.contains("SELECT2=tritter-accel"), r.toString());
    assertTrue(r.stdout.contains("MATMUL2=2.0"), r.toString());
  }

  private record Result(String stdout, String stderr) {}

  private static Result runChild(List<String> jvmArgs, String... args) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.add("-Xshare:auto");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    // only aphelion-tritter's provider and the null backend: without aphelion-core's test fixtures
    // and without aphelion-cuda (on a GPU machine's class path it would be chosen)
    cmd.add(Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(e -> !(e.contains("aphelion-core") && (e.endsWith("test-classes") || e.endsWith("-tests.jar") || e.endsWith("core-test"))))
        .filter(e -> !e.contains("aphelion-cuda"))
        .collect(Collectors.joining(File.pathSeparator)));
    cmd.add(PrintChoice.class.getName());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).start();
    byte[] out = p.getInputStream().readAllBytes();
    byte[] err = p.getErrorStream().readAllBytes();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM timed out");
    return new Result(new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
  }
}
