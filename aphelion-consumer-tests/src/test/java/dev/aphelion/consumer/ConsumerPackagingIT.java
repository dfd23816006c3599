package dev.aphelion.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * Runs a small consumer of the library the ways users package it and checks that backend
 * discovery still finds every provider: on the module path (through the module descriptors'
 * {@code provides}), and in a shaded jar built with and without the services rule of the user
 * guide.
 */
class ConsumerPackagingIT {
  private static final Set<String> ALL_BACKENDS = Set.of("cuda", "null", "tritter-accel");
  private static final Path BUILD = Path.of(System.getProperty("consumer.build", "target"));
  private static final String FINAL_NAME = System.getProperty("consumer.finalName", "aphelion-consumer-tests");

  @Test
  void shadedJarWithTheServicesRuleFindsEveryBackend() throws Exception {
    Run r = java(List.of("-jar", BUILD.resolve(FINAL_NAME + "-all.jar").toString()));
    assertEquals(ALL_BACKENDS, r.backends(), r.toString());
  }

  @Test
  void shadedJarWithoutTheServicesRuleLosesBackends() throws Exception {
    // documents why the rule is needed: each module's META-INF/services file overwrites the others
    Run r = java(List.of("-jar", BUILD.resolve(FINAL_NAME + "-naive.jar").toString()));
    assertTrue(r.backends().size() < ALL_BACKENDS.size(), "expected lost providers: " + r);
  }

  @Test
  void moduleOnTheModulePathDiscoversEveryBackend() throws Exception {
    Path src = BUILD.resolve("module-consumer/src");
    Path out = BUILD.resolve("module-consumer/classes");
    Path pkg = src.resolve("dev/aphelion/moduleconsumer");
    Files.createDirectories(pkg);
    Files.createDirectories(out);
    Files.writeString(src.resolve("module-info.java"), """
        module dev.aphelion.moduleconsumer {
          requires dev.aphelion.tritter;
        }
        """);
    Files.writeString(pkg.resolve("Main.java"), """
        package dev.aphelion.moduleconsumer;

        import dev.aphelion.core.backend.BackendRegistry;
        import dev.aphelion.tritter.kernel.Vectorization;

        public final class Main {
          public static void main(String[] args) {
            System.out.println("MODULE " + BackendRegistry.class.getModule().getName());
            System.out.println("MODULE " + Vectorization.class.getModule().getName());
            System.out.println("KERNELS " + Vectorization.get().mode());
            for (BackendRegistry.ProviderInfo info : BackendRegistry.load().listing()) {
              System.out.println("BACKEND " + info.name() + " " + (info.isUsable() ? "available" : "unavailable"));
            }
          }
        }
        """);
    String modulePath = libraryModulePath();
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    int rc = javac.run(null, null, null, "--module-path", modulePath, "-d", out.toString(),
        src.resolve("module-info.java").toString(), pkg.resolve("Main.java").toString());
    assertEquals(0, rc, "consumer module failed to compile against " + modulePath);
    Run r = java(List.of("--module-path", modulePath + File.pathSeparator + out,
        "--add-modules", "ALL-MODULE-PATH", "-m", "dev.aphelion.moduleconsumer/dev.aphelion.moduleconsumer.Main"));
    assertTrue(r.stdout.contains("MODULE dev.aphelion.core") && r.stdout.contains("MODULE dev.aphelion.tritter"),
        "the library must run as named modules: " + r);
    assertTrue(r.stdout.contains("KERNELS VECTOR"), "the Vector API path must work on the module path: " + r);
    assertEquals(ALL_BACKENDS, r.backends(), r.toString());
    assertTrue(r.stdout.contains("BACKEND tritter-accel available"), r.toString());
  }

  /** The library jars and their dependencies from this test's class path, without the test tooling. */
  private static String libraryModulePath() {
    List<String> entries = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(e -> e.endsWith(".jar"))
        .filter(e -> {
          String name = Path.of(e).getFileName().toString();
          return name.startsWith("aphelion-core") || name.startsWith("aphelion-tritter") || name.startsWith("aphelion-cuda")
              || name.startsWith("slf4j-api") || name.startsWith("jackson-") || name.startsWith("jcuda");
        })
        .filter(e -> !e.endsWith("-tests.jar"))
        .toList();
    assertTrue(entries.stream().anyMatch(e -> e.contains("aphelion-tritter")), "no library jars on " + System.getProperty("java.class.path"));
    return String.join(File.pathSeparator, entries);
  }

  private record Run(int exit, String stdout, String stderr) {
    Set<String> backends() {
      return stdout.lines().filter(l -> l.startsWith("BACKEND ")).map(l -> l.split(" ")[1])
          .collect(Collectors.toCollection(TreeSet::new));
    }
  }

  private static Run java(List<String> args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--add-modules");
    cmd.add("jdk.incubator.vector");
    cmd.add("-Daphelion.cuda.disable=true");
    cmd.addAll(args);
    Process p = new ProcessBuilder(cmd).start();
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    byte[] err = p.getErrorStream().readAllBytes();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "consumer timed out");
    Run r = new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    assertEquals(0, r.exit, r.toString());
    assertFalse(r.stdout.isBlank(), r.toString());
    return r;
  }
}
