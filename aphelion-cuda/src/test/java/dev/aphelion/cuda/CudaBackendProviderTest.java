package dev.aphelion.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.backend.Availability;
import dev.aphelion.core.backend.Backend;
import dev.aphelion.core.backend.BackendProvider;
import dev.aphelion.core.backend.BackendRegistry;
import dev.aphelion.core.backend.DeviceKind;
import dev.aphelion.core.error.BackendException;
import dev.aphelion.cuda.driver.CudaDriver;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Discovery and availability; runs everywhere, with or without a GPU. */
class CudaBackendProviderTest {

  @Test
  void isFoundByServiceLoader() {
    // Look at provider types only, and step over broken entries: other jars' test fixtures on the
    // class path may name providers that throw or do not exist.
    BackendProvider found = null;
    var it = ServiceLoader.load(BackendProvider.class).stream().iterator();
    for (int guard = 0; guard < 1000; guard++) {
      try {
        if (!it.hasNext()) {
          break;
        }
        var pr = it.next();
        if (pr.type() == CudaBackendProvider.class) {
          found = pr.get();
          break;
        }
      } catch (java.util.ServiceConfigurationError e) {
        // a broken registration of someone else; keep looking
      }
    }
    assertTrue(found != null, "CudaBackendProvider is not registered in META-INF/services");
    assertEquals("cuda", found.name());
    assertEquals(BackendProvider.PRIORITY_GPU, found.priority());
    assertTrue(BackendRegistry.load().names().contains("cuda"));
  }

  @Test
  void availabilityNeverThrowsAndGivesAReason() {
    Availability a = new CudaBackendProvider().availability();
    assertFalse(a.reason().isBlank());
    assertEquals(a, new CudaBackendProvider().availability(), "the probe is cached");
    System.out.println("cuda availability: " + a);
  }

  @Test
  void withoutADeviceTheReasonSaysWhyAndCreateFails() {
    Availability a = new CudaBackendProvider().availability();
    Assumptions.assumeFalse(a.available(), "a CUDA device is present");
    String r = a.reason();
    assertTrue(
        r.contains("libcuda.so.1 not found") || r.contains("no CUDA device") || r.contains("driver too old")
            || r.contains("compute capability") || r.contains("JCuda"),
        r);
    BackendException e = assertThrows(BackendException.class, () -> new CudaBackendProvider().create());
    assertTrue(e.getMessage().contains(CudaDriver.probe().reason()), e.getMessage());
    assertNotEquals("cuda", BackendRegistry.load().selectDefault().name());
  }

  @Test
  void disablePropertyWins() {
    String old = System.getProperty(CudaDriver.DISABLE_PROPERTY);
    try {
      System.setProperty(CudaDriver.DISABLE_PROPERTY, "true");
      Availability a = new CudaBackendProvider().availability();
      assertFalse(a.available());
      assertTrue(a.reason().contains("disabled"), a.reason());
    } finally {
      if (old == null) {
        System.clearProperty(CudaDriver.DISABLE_PROPERTY);
      } else {
        System.setProperty(CudaDriver.DISABLE_PROPERTY, old);
      }
    }
  }

  @Test
  void onAGpuTheBackendOpensAndCloses() {
    CudaDriver.Probe p = CudaDriver.probe();
    Assumptions.assumeTrue(p.available(), () -> "no usable CUDA device: " + p.reason());
    assertEquals("cuda", BackendRegistry.load().selectDefault().name());
    Backend b = new CudaBackendProvider().create();
    try {
      assertEquals(DeviceKind.GPU, b.capabilities().kind());
      assertTrue(b.capabilities().computeUnits() > 0);
      assertTrue(b.availability().available());
      System.out.println("cuda backend: " + b.capabilities().summary() + " " + b.capabilities().attributes());
    } finally {
      b.close();
    }
    assertFalse(b.availability().available());
    assertThrows(IllegalStateException.class, () -> ((CudaBackend) b).kernels());
    b.close();
  }
}
