package dev.aphelion.tritter.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ConcurrentModificationException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/** A sequence of a KV cache takes one model step at a time; other sequences stay free. */
class CacheConfinementTest {

  @Test
  void steppingASequenceHeldByAnotherThreadIsRefused() throws Exception {
    DecoderConfig config = DecoderConfig.builder().vocabSize(37).hiddenSize(32).numLayers(2).numHeads(4).ffnSize(48).build();
    DecoderModel model = DecoderModel.random(config, Precision.DENSE_F32, 3);
    KVCache cache = model.newCache(2, 8, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
    ExecutorService other = Executors.newSingleThreadExecutor();
    try {
      // Another thread is "inside a step" of sequence 1 (the state DecoderModel holds during a step).
      int[] held = other.submit(() -> cache.claim(new int[] {1})).get();
      ConcurrentModificationException e = assertThrows(ConcurrentModificationException.class,
          () -> model.step(cache, new int[] {0, 1}, new int[] {3, 4}));
      assertTrue(e.getMessage().contains("sequence 1"), e.getMessage());
      assertTrue(cache.position(0) == 0 && cache.position(1) == 0, "a refused step changes nothing");
      float[] a = model.forward(cache, 0, new int[] {5, 6}, false); // sequence 0 is free
      other.submit(() -> cache.release(held)).get();
      float[] b = model.step(cache, new int[] {0, 1}, new int[] {3, 4});
      assertTrue(a.length > 0 && b.length > 0);
      // A step releases its claims, also when it fails.
      assertThrows(RuntimeException.class, () -> model.step(cache, new int[] {0}, new int[] {999}));
      model.step(cache, new int[] {0}, new int[] {1});
    } finally {
      other.shutdownNow();
    }
  }

  @Test
  void claimsOfOneThreadNest() {
    KVCache c = KVCache.builder().layers(1).sequences(3).kvHeads(1).headDim(2).capacity(2).build();
    int[] first = c.claim(new int[] {0, 0, 2});
    assertArrayEquals(new int[] {0, 2}, first);
    assertArrayEquals(new int[0], c.claim(new int[] {2}));
    c.release(first);
    assertArrayEquals(new int[] {2}, c.claim(new int[] {2}));
  }
}
