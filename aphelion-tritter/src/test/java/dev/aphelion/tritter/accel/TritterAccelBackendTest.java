package dev.aphelion.tritter.accel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.backend.Backend;
import dev.aphelion.core.backend.BackendProvider;
import dev.aphelion.core.backend.BackendRegistry;
import dev.aphelion.core.backend.DeviceKind;
import dev.aphelion.tritter.kernel.Vectorization;
import org.junit.jupiter.api.Test;

class TritterAccelBackendTest {

  @Test
  void registeredThroughServiceLoaderAboveTheNullBackend() {
    BackendRegistry registry = BackendRegistry.load();
    assertTrue(registry.names().contains(TritterAccelBackend.NAME), registry.names().toString());
    BackendProvider p = registry.get(TritterAccelBackend.NAME);
    assertTrue(p.priority() > BackendProvider.PRIORITY_NULL);
    assertTrue(p.priority() < BackendProvider.PRIORITY_GPU);
    assertTrue(p.availability().available(), p.availability().reason());
    try (Backend b = registry.open(TritterAccelBackend.NAME)) {
      assertInstanceOf(TritterAccelBackend.class, b);
    }
  }

  @Test
  void reportsRealCapabilities() {
    try (TritterAccelBackend b = TritterAccelBackend.create()) {
      var caps = b.capabilities();
      assertEquals(DeviceKind.CPU, caps.kind());
      assertEquals(Runtime.getRuntime().availableProcessors(), caps.computeUnits());
      Vectorization v = Vectorization.get();
      assertEquals(v.vectorBitSize(), caps.vectorBitWidth());
      assertEquals(String.valueOf(v.mode() == Vectorization.Mode.VECTOR), caps.attributes().get("vector_api"));
      assertEquals(Runtime.getRuntime().maxMemory(), caps.maxMemoryBytes());
      assertTrue(caps.int8());
      assertTrue(b.availability().available());
      b.ternaryMatmul();
      b.close();
      assertTrue(!b.availability().available());
      assertThrows(IllegalStateException.class, b::ternaryMatmul);
    }
  }
}
