package dev.aphelion.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ConfigException;
import java.util.List;
import org.junit.jupiter.api.Test;

class SemanticVersionTest {
  @Test
  void parsesValidVersions() {
    for (String s :
        List.of(
            "0.0.0",
            "1.0.0",
            "10.20.30",
            "1.1.2-prerelease+meta",
            "1.0.0-alpha.beta.1",
            "1.0.0-alpha0.valid",
            "1.0.0-rc.1+build.1",
            "2.0.0-rc.1+build.123",
            "1.2.3----RC-SNAPSHOT.12.9.1--.12+788",
            "1.0.0+0.build.1-rc.10000aaa-kk-0.1",
            "99999999999999999.99999999999.9999999999",
            "1.0.0-0A.is.legal")) {
      assertEquals(s, SemanticVersion.parse(s).toString(), s);
    }
    SemanticVersion v = SemanticVersion.parse("2.1.3-rc.1+build.5");
    assertEquals(2, v.major());
    assertEquals(1, v.minor());
    assertEquals(3, v.patch());
    assertEquals(List.of("rc", "1"), v.preRelease());
    assertEquals(List.of("build", "5"), v.build());
    assertTrue(v.isPreRelease());
  }

  @Test
  void rejectsMalformedVersions() {
    for (String s :
        List.of(
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "01.1.1",
            "1.01.1",
            "1.1.01",
            "1.2.3-0123",
            "1.2.3-0123.0123",
            "1.1.2+.123",
            "+invalid",
            "-invalid",
            "1.0.0-",
            "1.0.0+",
            "1.0.0-alpha..1",
            "1.0.0-alpha_beta",
            "v1.2.3",
            "1.2.3 ",
            "a.b.c",
            "1.2.-3",
            "99999999999999999999999.0.0")) {
      ConfigException e = assertThrows(ConfigException.class, () -> SemanticVersion.parse(s), s);
      assertTrue(e.getMessage().contains("version") || e.getMessage().contains("identifier"), e.getMessage());
    }
  }

  @Test
  void lenientAcceptsShortForms() {
    assertEquals(SemanticVersion.of(1, 0, 0), SemanticVersion.parseLenient("1"));
    assertEquals(SemanticVersion.of(1, 0, 0), SemanticVersion.parseLenient("1.0"));
    assertEquals("1.2.0-beta", SemanticVersion.parseLenient("1.2-beta").toString());
    assertThrows(ConfigException.class, () -> SemanticVersion.parseLenient("1."));
    assertThrows(ConfigException.class, () -> SemanticVersion.parseLenient("01.0"));
    assertThrows(ConfigException.class, () -> SemanticVersion.parseLenient("1.0.0.0"));
  }

  @Test
  void precedenceFollowsTheSpec() {
    List<String> ordered =
        List.of(
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.1.0",
            "2.0.0",
            "10.0.0");
    for (int i = 0; i + 1 < ordered.size(); i++) {
      SemanticVersion a = SemanticVersion.parse(ordered.get(i));
      SemanticVersion b = SemanticVersion.parse(ordered.get(i + 1));
      assertTrue(a.compareTo(b) < 0, a + " < " + b);
      assertTrue(b.compareTo(a) > 0, b + " > " + a);
    }
    SemanticVersion x = SemanticVersion.parse("1.0.0+a");
    SemanticVersion y = SemanticVersion.parse("1.0.0+b");
    assertEquals(0, x.compareTo(y));
    assertNotEquals(x, y);
  }
}
