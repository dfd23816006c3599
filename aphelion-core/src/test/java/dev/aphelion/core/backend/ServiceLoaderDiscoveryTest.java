package dev.aphelion.core.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.backend.fixtures.HealthyTestProvider;
import dev.aphelion.core.backend.fixtures.ThrowingConstructorTestProvider;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Discovery through the fixtures registered in src/test/resources/META-INF/services. */
class ServiceLoaderDiscoveryTest {

  private static BackendRegistry load() {
    return BackendRegistry.builder()
        .classLoader(ServiceLoaderDiscoveryTest.class.getClassLoader())
        .systemProperties(k -> null)
        .environment(k -> null)
        .build();
  }

  @Test
  void discoversHealthyUnavailableAndBrokenProviders() {
    BackendRegistry r = load();
    Map<String, BackendRegistry.ProviderInfo> byClass =
        r.listing().stream()
            .collect(Collectors.toMap(BackendRegistry.ProviderInfo::className, Function.identity()));

    BackendRegistry.ProviderInfo healthy = byClass.get(HealthyTestProvider.class.getName());
    assertTrue(healthy.isUsable());
    assertEquals("test-healthy", healthy.name());

    BackendRegistry.ProviderInfo nul = byClass.get(NullBackendProvider.class.getName());
    assertTrue(nul.isUsable(), "aphelion-core registers the null backend");

    BackendRegistry.ProviderInfo unavailable =
        byClass.get("dev.aphelion.core.backend.fixtures.UnavailableTestProvider");
    assertFalse(unavailable.isUsable());
    assertEquals("fixture device not present", unavailable.availability().reason());

    BackendRegistry.ProviderInfo throwing = byClass.get(ThrowingConstructorTestProvider.class.getName());
    assertFalse(throwing.isUsable());
    assertInstanceOf(ServiceConfigurationError.class, throwing.error());
    assertTrue(
        throwing.availability().reason().contains("could not be instantiated"),
        throwing.availability().reason());
    assertEquals("fixture constructor refuses", throwing.error().getCause().getMessage());

    BackendRegistry.ProviderInfo probe =
        byClass.get("dev.aphelion.core.backend.fixtures.ThrowingAvailabilityTestProvider");
    assertFalse(probe.isUsable());
    assertInstanceOf(UnsatisfiedLinkError.class, probe.error());

    BackendRegistry.ProviderInfo missing =
        byClass.get("dev.aphelion.core.backend.fixtures.DoesNotExistTestProvider");
    assertNotNull(missing, "a class that cannot be loaded is listed: " + byClass.keySet());
    assertFalse(missing.isUsable());

    assertEquals(6, r.listing().size());
    assertEquals(
        List.of("null", "test-broken-probe", "test-healthy", "test-unavailable"), r.names());
  }

  @Test
  void selectsTheHealthyProviderOverNull() {
    BackendRegistry r = load();
    assertEquals("test-healthy", r.selectDefault().name());
    try (Backend b = r.openDefault()) {
      assertEquals("fixture-cpu", b.capabilities().deviceName());
    }
  }

  @Test
  void describeReportsBrokenProviders() {
    String d = load().describe();
    assertTrue(d.contains("fixture constructor refuses") || d.contains("could not be instantiated"), d);
    assertTrue(d.contains("no fixture_native"), d);
  }
}
