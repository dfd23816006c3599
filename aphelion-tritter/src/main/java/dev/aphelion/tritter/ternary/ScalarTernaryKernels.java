package dev.aphelion.tritter.ternary;

import dev.aphelion.tritter.kernel.RowPool;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The plain-Java reference of {@link TernaryKernels}: one row, one group, one column at a time, in
 * column order, reading each weight's +1/-1 bits straight from the packed layout.
 */
final class ScalarTernaryKernels implements TernaryKernels {

  @Override
  public void matmulFloat(PackedTernary w, float[] x, int batch, float[] bias, float[] y, RowPool pool) {
    int rows = w.rows();
    int cols = w.cols();
    pool.forRange(w.rowBlocks(), TernaryKernels.minBlocksPerTask(w), (b0, b1) -> {
      int r1 = Math.min(rows, b1 * PackedTernary.BLOCK_ROWS);
      for (int b = 0; b < batch; b++) {
        for (int r = b0 * PackedTernary.BLOCK_ROWS; r < r1; r++) {
          float s = 0f;
          for (int g = 0; g < w.groupsPerRow(); g++) {
            int c0 = g * w.groupSize();
            int c1 = c0 + w.colsInGroup(g);
            float acc = 0f;
            for (int c = c0; c < c1; c++) {
              int t = trit(w, r, c, c0, g);
              if (t > 0) {
                acc += x[b * cols + c];
              } else if (t < 0) {
                acc -= x[b * cols + c];
              }
            }
            s += acc * scale(w, r, g);
          }
          y[b * rows + r] = bias == null ? s : s + bias[r];
        }
      }
    });
  }

  @Override
  public void matmulInt8(PackedTernary w, MemorySegment q, float[] xScales, int batch, float[] bias, float[] y, RowPool pool) {
    int rows = w.rows();
    int cols = w.cols();
    pool.forRange(w.rowBlocks(), TernaryKernels.minBlocksPerTask(w), (b0, b1) -> {
      int r1 = Math.min(rows, b1 * PackedTernary.BLOCK_ROWS);
      for (int b = 0; b < batch; b++) {
        for (int r = b0 * PackedTernary.BLOCK_ROWS; r < r1; r++) {
          float s = 0f;
          for (int g = 0; g < w.groupsPerRow(); g++) {
            int c0 = g * w.groupSize();
            int c1 = c0 + w.colsInGroup(g);
            int acc = 0;
            for (int c = c0; c < c1; c++) {
              acc += trit(w, r, c, c0, g) * q.get(ValueLayout.JAVA_BYTE, (long) b * cols + c);
            }
            s += (float) acc * scale(w, r, g);
          }
          float v = s * xScales[b];
          y[b * rows + r] = bias == null ? v : v + bias[r];
        }
      }
    });
  }

  /** Weight (r, c) of group g starting at column c0, from the packed nibbles without index checks. */
  private static int trit(PackedTernary w, int r, int c, int c0, int g) {
    int within = c - c0;
    int quad = g * w.quadsPerGroup() + (within >>> 2);
    int v = w.nibbles()[w.quadOffset(r / PackedTernary.BLOCK_ROWS, quad) + r % PackedTernary.BLOCK_ROWS];
    int bit = within & 3;
    return ((v >>> bit) & 1) - ((v >>> (bit + 4)) & 1);
  }

  private static float scale(PackedTernary w, int r, int g) {
    return w.blockScales()[((r / PackedTernary.BLOCK_ROWS) * w.groupsPerRow() + g) * PackedTernary.BLOCK_ROWS + r % PackedTernary.BLOCK_ROWS];
  }

  @Override
  public int dot(byte[] a, byte[] b) {
    int s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}
