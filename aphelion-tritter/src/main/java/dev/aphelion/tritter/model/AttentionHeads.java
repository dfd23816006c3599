package dev.aphelion.tritter.model;

import dev.aphelion.tritter.kernel.RowPool;

/** Runs the attention of the query heads of one token in parallel, each chunk with its own scratch. */
final class AttentionHeads {
  private AttentionHeads() {}

  @FunctionalInterface
  interface HeadBody {
    void run(int head, float[] scores);
  }

  static void run(int heads, int capacity, int visible, HeadBody body) {
    // A head costs ~2·visible·headDim multiply-adds; below a few thousand visible tokens per chunk
    // the hand-off to another thread costs more than it saves.
    int grain = Math.max(1, 4096 / Math.max(1, visible));
    RowPool.shared().forRange(heads, grain, (from, to) -> {
      float[] scores = new float[capacity];
      for (int h = from; h < to; h++) {
        body.run(h, scores);
      }
    });
  }
}
