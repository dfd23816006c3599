package dev.aphelion.tritter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.tritter.ternary.TernaryMatmul;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package layout of aphelion-tritter (docs/architecture.md): each package imports only the
 * layers below it, measured on the compiled classes with {@code jdeps}, and no Vector API class is
 * public API.
 */
class PackageLayoutTest {

  /** Layer of each package; a package may depend only on packages of a lower layer. */
  private static final Map<String, Integer> LAYERS = Map.ofEntries(
      Map.entry("kernel", 0),
      Map.entry("random", 0),
      Map.entry("quant", 1),
      Map.entry("vsa", 1),
      Map.entry("dense", 1),
      Map.entry("ternary", 2),
      Map.entry("io", 3),
      Map.entry("compress", 3),
      Map.entry("compute", 3),
      Map.entry("nn", 4),
      Map.entry("model", 5),
      Map.entry("train", 5),
      Map.entry("hf", 6),
      Map.entry("accel", 7));

  private static final String ROOT = "dev.aphelion.tritter.";

  private static Path classes() throws Exception {
    return Path.of(TernaryMatmul.class.getProtectionDomain().getCodeSource().getLocation().toURI());
  }

  @Test
  void packagesDependOnlyOnLowerLayers() throws Exception {
    ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
    Path classes = classes();
    // the module's requirements (aphelion-core, SLF4J, Jackson) are on the test class path
    String modulePath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .filter(e -> !Path.of(e).toAbsolutePath().equals(classes.toAbsolutePath()))
        .filter(e -> Files.exists(Path.of(e)))
        .collect(Collectors.joining(File.pathSeparator));
    int rc = jdeps.run(print, print, "--multi-release", "25", "--module-path", modulePath, "-verbose:package",
        classes.toString());
    String report = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, rc, report);
    Pattern edge = Pattern.compile("^\\s*dev\\.aphelion\\.tritter\\.(\\w+)\\s+->\\s+dev\\.aphelion\\.tritter\\.(\\w+)\\s", Pattern.MULTILINE);
    Matcher m = edge.matcher(report);
    List<String> wrong = new ArrayList<>();
    int edges = 0;
    while (m.find()) {
      String from = m.group(1);
      String to = m.group(2);
      edges++;
      assertTrue(LAYERS.containsKey(from), "package " + ROOT + from + " has no layer in this test and docs/architecture.md");
      assertTrue(LAYERS.containsKey(to), "package " + ROOT + to + " has no layer in this test and docs/architecture.md");
      if (LAYERS.get(to) >= LAYERS.get(from)) {
        wrong.add(from + " -> " + to);
      }
    }
    assertTrue(edges > 10, "jdeps reported no package edges:\n" + report);
    assertTrue(wrong.isEmpty(), "dependencies that do not point down the layers: " + wrong);
  }

  @Test
  void noVectorApiClassIsPublic() throws Exception {
    Path root = classes();
    TreeSet<String> publicPanama = new TreeSet<>();
    int seen = 0;
    try (Stream<Path> files = Files.walk(root)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        String name = root.relativize(p).toString();
        if (!name.endsWith(".class") || !name.contains("Panama")) {
          continue;
        }
        String binary = name.substring(0, name.length() - ".class".length()).replace('/', '.');
        Class<?> c = Class.forName(binary, false, PackageLayoutTest.class.getClassLoader());
        seen++;
        if (Modifier.isPublic(c.getModifiers())) {
          publicPanama.add(binary);
        }
      }
    }
    assertTrue(seen >= 7, "found only " + seen + " Panama classes under " + root);
    assertTrue(publicPanama.isEmpty(), "public Vector API classes: " + publicPanama);
  }

  @Test
  void everyPackageHasPackageInfoAndALayer() throws IOException {
    Path sources = Path.of("src/main/java/dev/aphelion/tritter");
    assertTrue(Files.isDirectory(sources), "run from the module directory: " + sources.toAbsolutePath());
    try (Stream<Path> dirs = Files.list(sources)) {
      for (Path d : (Iterable<Path>) dirs::iterator) {
        if (Files.isDirectory(d)) {
          String pkg = ROOT + d.getFileName();
          assertTrue(Files.exists(d.resolve("package-info.java")), "package " + pkg + " has no package-info.java");
          assertTrue(LAYERS.containsKey(d.getFileName().toString()), "package " + pkg + " has no layer in this test");
        }
      }
    }
  }
}
