package dev.aphelion.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.backend.NullBackend;
import dev.aphelion.core.config.ModelConfigs;
import dev.aphelion.core.error.BuildException;
import dev.aphelion.core.trace.InMemoryTraceSink;
import dev.aphelion.core.trace.Tracer;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class BuildContextTest {
  static final ContextKey<Integer> COUNT = ContextKey.of("test.count", Integer.class);
  static final ContextKey<String> NAME = ContextKey.of("test.name", String.class);

  @Test
  void typedPutGetRequire() {
    BuildContext ctx = BuildContext.builder(new NullBackend()).put(NAME, "x").build();
    assertEquals(Optional.of("x"), ctx.get(NAME));
    assertEquals(Optional.empty(), ctx.get(COUNT));
    assertEquals(Optional.empty(), ctx.put(COUNT, 1));
    assertEquals(Optional.of(1), ctx.put(COUNT, 2));
    assertEquals(2, ctx.require(COUNT));
    assertTrue(ctx.contains(COUNT));
    assertEquals(Optional.of(2), ctx.remove(COUNT));
    assertFalse(ctx.contains(COUNT));
    BuildException e = assertThrows(BuildException.class, () -> ctx.require(COUNT));
    assertTrue(e.getMessage().contains("test.count (Integer)"), e.getMessage());
    assertTrue(e.getMessage().contains("test.name"), e.getMessage());
  }

  @Test
  void keysAreEqualByNameAndType() {
    BuildContext ctx = BuildContext.of(new NullBackend());
    ctx.put(ContextKey.of("k", String.class), "v");
    assertEquals("v", ctx.require(ContextKey.of("k", String.class)));
    assertTrue(ctx.get(ContextKey.of("k", Integer.class)).isEmpty());
  }

  @Test
  void rejectsWrongTypesAndNulls() {
    BuildContext ctx = BuildContext.of(new NullBackend());
    @SuppressWarnings({"unchecked", "rawtypes"})
    ContextKey<Object> raw = (ContextKey) COUNT;
    assertThrows(ClassCastException.class, () -> ctx.put(raw, "not an int"));
    assertThrows(NullPointerException.class, () -> ctx.put(NAME, null));
    assertThrows(IllegalArgumentException.class, () -> ContextKey.of(" ", String.class));
  }

  @Test
  void computeIfAbsentIsAtomic() {
    BuildContext ctx = BuildContext.of(new NullBackend());
    AtomicInteger created = new AtomicInteger();
    ContextKey<AtomicInteger> key = ContextKey.of("test.counter", AtomicInteger.class);
    IntStream.range(0, 1000)
        .parallel()
        .forEach(
            i ->
                ctx.computeIfAbsent(
                        key,
                        () -> {
                          created.incrementAndGet();
                          return new AtomicInteger();
                        })
                    .incrementAndGet());
    assertEquals(1, created.get());
    assertEquals(1000, ctx.require(key).get());
  }

  @Test
  void withTracerSharesTheStore() {
    InMemoryTraceSink sink = new InMemoryTraceSink(4);
    BuildContext ctx =
        BuildContext.builder(new NullBackend()).config(ModelConfigs.small()).traceSink(sink).build();
    assertSame(sink, ctx.traceSink());
    Tracer other = Tracer.noop();
    BuildContext derived = ctx.withTracer(other);
    derived.put(NAME, "shared");
    assertEquals("shared", ctx.require(NAME));
    assertSame(other, derived.tracer());
    assertEquals("small", derived.config().orElseThrow().name());
    assertSame(ctx.backend(), derived.backend());
  }
}
