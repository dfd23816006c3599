package dev.aphelion.core.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.BackendException;
import dev.aphelion.core.error.ErrorCode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BackendRegistryTest {

  /** A configurable in-test provider. */
  static class FakeProvider implements BackendProvider {
    final String name;
    final int priority;
    final Availability availability;
    final AtomicInteger availabilityCalls = new AtomicInteger();
    final AtomicInteger created = new AtomicInteger();
    RuntimeException createFailure;

    FakeProvider(String name, int priority, boolean available) {
      this.name = name;
      this.priority = priority;
      this.availability =
          available ? Availability.available("fake ok") : Availability.unavailable("fake missing");
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public int priority() {
      return priority;
    }

    @Override
    public Availability availability() {
      availabilityCalls.incrementAndGet();
      return availability;
    }

    @Override
    public Backend create() {
      if (createFailure != null) {
        throw createFailure;
      }
      created.incrementAndGet();
      FakeProvider self = this;
      return new Backend() {
        @Override
        public String name() {
          return self.name;
        }

        @Override
        public DeviceCapabilities capabilities() {
          return DeviceCapabilities.builder(self.name + "-dev", DeviceKind.CPU).computeUnits(2).build();
        }

        @Override
        public Availability availability() {
          return self.availability;
        }

        @Override
        public void close() {}
      };
    }
  }

  private static BackendRegistry registry(
      Map<String, String> props, Map<String, String> env, BackendProvider... providers) {
    return BackendRegistry.builder()
        .providers(List.of(providers))
        .systemProperties(props::get)
        .environment(env::get)
        .build();
  }

  private static BackendRegistry registry(BackendProvider... providers) {
    return registry(Map.of(), Map.of(), providers);
  }

  @Test
  void selectsHighestPriorityAvailable() {
    FakeProvider gpu = new FakeProvider("gpu", 300, false);
    FakeProvider cpu = new FakeProvider("cpu", 200, true);
    FakeProvider scalar = new FakeProvider("scalar", 100, true);
    BackendRegistry r = registry(scalar, new NullBackendProvider(), gpu, cpu);
    BackendRegistry.Selection sel = r.defaultSelection();
    assertSame(cpu, sel.provider());
    assertEquals(BackendRegistry.Source.PRIORITY, sel.source());
    assertNull(sel.requested());
    assertEquals(List.of("gpu", "cpu", "scalar", "null"), r.listing().stream().map(BackendRegistry.ProviderInfo::name).toList());
  }

  @Test
  void priorityTiesAreBrokenByName() {
    FakeProvider b = new FakeProvider("beta", 50, true);
    FakeProvider a = new FakeProvider("alpha", 50, true);
    assertSame(a, registry(b, a).selectDefault());
    assertSame(a, registry(a, b).selectDefault());
  }

  @Test
  void neverFallsBackToTheNullBackendAndListsEveryProviderWithItsReason() {
    BackendProvider broken = new FakeProvider("tritter-accel", 200, true) {
      @Override
      public Availability availability() {
        throw new IllegalStateException("unknown value 'fast' for -Daphelion.kernels");
      }
    };
    BackendRegistry r = registry(new FakeProvider("gpu", 300, false), broken, new NullBackendProvider());
    BackendException e = assertThrows(BackendException.class, r::selectDefault);
    assertEquals(ErrorCode.BACKEND, e.code());
    String m = e.getMessage();
    assertTrue(m.contains("no computing backend is usable"), m);
    assertTrue(m.contains("gpu") && m.contains("fake missing"), m);
    assertTrue(m.contains("tritter-accel") && m.contains("unknown value 'fast' for -Daphelion.kernels"), m);
    assertTrue(m.contains("null") && m.contains("-Daphelion.backend=null"), m);
    assertThrows(BackendException.class, r::openDefault);
  }

  @Test
  void theNullBackendIsUsedWhenAskedForByName() {
    BackendRegistry r = registry(Map.of(BackendRegistry.PROPERTY, "null"), Map.of(),
        new FakeProvider("gpu", 300, false), new NullBackendProvider());
    assertEquals("null", r.selectDefault().name());
    try (Backend b = r.openDefault()) {
      assertInstanceOf(NullBackend.class, b);
      assertEquals(DeviceKind.VIRTUAL, b.capabilities().kind());
      assertTrue(b.availability().available());
    }
  }

  @Test
  void getByNameIsCaseInsensitive() {
    FakeProvider cpu = new FakeProvider("tritter-cpu", 200, true);
    BackendRegistry r = registry(cpu, new NullBackendProvider());
    assertSame(cpu, r.get("tritter-cpu"));
    assertSame(cpu, r.get("Tritter-CPU"));
    try (Backend b = r.open("TRITTER-CPU")) {
      assertEquals("tritter-cpu", b.name());
    }
    assertEquals(1, cpu.created.get());
  }

  @Test
  void unknownNameListsKnownNames() {
    BackendRegistry r = registry(new FakeProvider("cpu", 1, true), new NullBackendProvider());
    BackendException e = assertThrows(BackendException.class, () -> r.get("cuda"));
    assertEquals(ErrorCode.BACKEND, e.code());
    assertTrue(e.getMessage().contains("'cuda'"), e.getMessage());
    assertTrue(e.getMessage().contains("cpu, null"), e.getMessage());
  }

  @Test
  void systemPropertyWinsOverEnvironmentAndPriority() {
    FakeProvider high = new FakeProvider("high", 500, true);
    FakeProvider low = new FakeProvider("low", 1, true);
    FakeProvider mid = new FakeProvider("mid", 250, true);
    BackendRegistry r =
        registry(Map.of(BackendRegistry.PROPERTY, "low"), Map.of(BackendRegistry.ENV, "mid"), high, low, mid);
    BackendRegistry.Selection sel = r.defaultSelection();
    assertSame(low, sel.provider());
    assertEquals(BackendRegistry.Source.SYSTEM_PROPERTY, sel.source());
    assertEquals("low", sel.requested());
  }

  @Test
  void environmentWinsOverPriority() {
    FakeProvider high = new FakeProvider("high", 500, true);
    FakeProvider mid = new FakeProvider("mid", 250, true);
    BackendRegistry r = registry(Map.of(), Map.of(BackendRegistry.ENV, " MID "), high, mid);
    BackendRegistry.Selection sel = r.defaultSelection();
    assertSame(mid, sel.provider());
    assertEquals(BackendRegistry.Source.ENVIRONMENT, sel.source());
  }

  @Test
  void blankPropertyIsIgnored() {
    FakeProvider high = new FakeProvider("high", 500, true);
    FakeProvider mid = new FakeProvider("mid", 250, true);
    BackendRegistry r =
        registry(Map.of(BackendRegistry.PROPERTY, "  "), Map.of(BackendRegistry.ENV, "mid"), high, mid);
    assertSame(mid, r.selectDefault());
  }

  @Test
  void requestedUnknownBackendIsAnErrorNotAFallback() {
    BackendRegistry r =
        registry(Map.of(BackendRegistry.PROPERTY, "cuda"), Map.of(), new FakeProvider("cpu", 1, true));
    BackendException e = assertThrows(BackendException.class, r::selectDefault);
    assertTrue(e.getMessage().contains(BackendRegistry.PROPERTY), e.getMessage());
    assertTrue(e.getMessage().contains("known backends: cpu"), e.getMessage());
  }

  @Test
  void requestedUnavailableBackendIsAnErrorWithTheReason() {
    BackendRegistry r =
        registry(
            Map.of(),
            Map.of(BackendRegistry.ENV, "gpu"),
            new FakeProvider("gpu", 300, false),
            new NullBackendProvider());
    BackendException e = assertThrows(BackendException.class, r::selectDefault);
    assertTrue(e.getMessage().contains(BackendRegistry.ENV), e.getMessage());
    assertTrue(e.getMessage().contains("fake missing"), e.getMessage());
    BackendException open = assertThrows(BackendException.class, () -> r.open("gpu"));
    assertTrue(open.getMessage().contains("unavailable: fake missing"), open.getMessage());
  }

  @Test
  void noAvailableBackendIsAnError() {
    BackendRegistry r = registry(new FakeProvider("gpu", 300, false));
    BackendException e = assertThrows(BackendException.class, r::selectDefault);
    assertTrue(e.getMessage().contains("no computing backend is usable"), e.getMessage());
    assertTrue(e.getMessage().contains("gpu (" + FakeProvider.class.getName() + ", priority 300): unavailable: fake missing"), e.getMessage());
  }

  @Test
  void throwingAvailabilityIsReportedNotFatal() {
    BackendProvider broken =
        new FakeProvider("broken", 900, true) {
          @Override
          public Availability availability() {
            throw new UnsatisfiedLinkError("no libfake");
          }
        };
    FakeProvider ok = new FakeProvider("ok", 1, true);
    BackendRegistry r = registry(broken, ok);
    BackendRegistry.ProviderInfo info = r.listing().getFirst();
    assertEquals("broken", info.name());
    assertFalse(info.isUsable());
    assertInstanceOf(UnsatisfiedLinkError.class, info.error());
    assertTrue(info.availability().reason().contains("no libfake"), info.availability().reason());
    assertSame(ok, r.selectDefault());
  }

  @Test
  void throwingNameIsReportedNotFatal() {
    BackendProvider broken =
        new FakeProvider("x", 900, true) {
          @Override
          public String name() {
            throw new IllegalStateException("bad name");
          }
        };
    BackendRegistry r = registry(broken, new NullBackendProvider());
    assertEquals(2, r.listing().size());
    BackendRegistry.ProviderInfo info =
        r.listing().stream().filter(i -> i.provider() == null).findFirst().orElseThrow();
    assertInstanceOf(IllegalStateException.class, info.error());
    assertEquals(List.of("null"), r.names());
  }

  @Test
  void availabilityIsAskedOnceAndOnlyWhenNeeded() {
    FakeProvider a = new FakeProvider("a", 2, true);
    FakeProvider b = new FakeProvider("b", 1, true);
    BackendRegistry r = registry(a, b);
    assertEquals(0, a.availabilityCalls.get());
    r.get("b");
    assertEquals(0, b.availabilityCalls.get(), "get() must not probe");
    r.selectDefault();
    r.selectDefault();
    r.listing();
    assertEquals(1, a.availabilityCalls.get());
    assertEquals(1, b.availabilityCalls.get());
  }

  @Test
  void duplicateNamesKeepTheFirstAndReportTheSecond() {
    FakeProvider first = new FakeProvider("dup", 1, true);
    FakeProvider second = new FakeProvider("DUP", 99, true);
    BackendRegistry r = registry(first, second);
    assertSame(first, r.get("dup"));
    assertSame(first, r.selectDefault());
    BackendRegistry.ProviderInfo rejected =
        r.listing().stream().filter(i -> i.provider() == null).findFirst().orElseThrow();
    assertTrue(rejected.error().getMessage().contains("duplicate backend name"), rejected.error().getMessage());
  }

  @Test
  void creationFailureIsWrappedWithTheBackendName() {
    FakeProvider p = new FakeProvider("flaky", 1, true);
    p.createFailure = new IllegalStateException("device lost");
    BackendRegistry r = registry(p);
    BackendException e = assertThrows(BackendException.class, () -> r.open("flaky"));
    assertTrue(e.getMessage().contains("'flaky'"), e.getMessage());
    assertInstanceOf(IllegalStateException.class, e.getCause());
  }

  @Test
  void describeListsEveryProvider() {
    Map<String, String> props = new HashMap<>();
    BackendRegistry r =
        registry(props, Map.of(), new FakeProvider("gpu", 300, false), new FakeProvider("cpu", 200, true),
            new NullBackendProvider());
    String d = r.describe();
    assertTrue(d.contains("default: cpu (by priority)"), d);
    assertTrue(d.contains("gpu  priority=300  unavailable (fake missing)"), d);
    assertTrue(d.contains("device: CPU 'cpu-dev' 2 units"), d);
    assertTrue(d.contains("null  priority=min  available"), d);
    props.put(BackendRegistry.PROPERTY, "nope");
    assertTrue(r.describe(false).contains("default: none:"), r.describe(false));
  }

  @Test
  void nullBackendIsAlwaysAvailableAndLowest() {
    NullBackendProvider p = new NullBackendProvider();
    assertTrue(p.availability().available());
    assertEquals(Integer.MIN_VALUE, p.priority());
    try (Backend b = p.create()) {
      assertEquals("null", b.name());
      assertEquals(0, b.capabilities().computeUnits());
      assertNotNull(b.capabilities().attributes().get("purpose"));
    }
  }
}
