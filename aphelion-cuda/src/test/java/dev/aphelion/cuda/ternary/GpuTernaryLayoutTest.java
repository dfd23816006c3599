package dev.aphelion.cuda.ternary;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.SerializationException;
import dev.aphelion.core.error.ShapeException;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The GPU layout on the CPU: conversion round trips, and an emulation of the dp4a GEMV kernel. */
class GpuTernaryLayoutTest {

  static byte[] randomPacked(Random rnd, int rows, int cols) {
    byte[] trits = new byte[rows * cols];
    for (int i = 0; i < trits.length; i++) {
      trits[i] = (byte) (rnd.nextInt(3) - 1);
    }
    return ScalarReference.pack(trits, rows, cols);
  }

  @ParameterizedTest
  @CsvSource({"1,1", "3,17", "17,63", "16,64", "8,65", "63,256", "65,257", "33,1021", "1,1029"})
  void roundTripsTheTritterFormat(int rows, int cols) {
    byte[] packed = randomPacked(new Random(rows * 31L + cols), rows, cols);
    int[] words = GpuTernaryLayout.fromTritter(packed, rows, cols);
    assertEquals(GpuTernaryLayout.wordCount(rows, cols), words.length);
    assertArrayEquals(packed, GpuTernaryLayout.toTritter(words, rows, cols));
  }

  @Test
  void rejectsCodeElevenAndPaddingBits() {
    // [1, -1, 0, 0, 1] as tritter bytes, with the invalid code 11 in slot 2.
    SerializationException e = assertThrows(
        SerializationException.class, () -> GpuTernaryLayout.fromTritter(new byte[] {(byte) (0x09 | 0x30), 0x01}, 1, 5));
    assertTrue(e.getMessage().contains("column 2"), e.getMessage());
    assertThrows(SerializationException.class, () -> GpuTernaryLayout.fromTritter(new byte[] {0x09, 0x05}, 1, 5));
    assertArrayEquals(new byte[] {0x09, 0x01},
        GpuTernaryLayout.toTritter(GpuTernaryLayout.fromTritter(new byte[] {0x09, 0x01}, 1, 5), 1, 5));
  }

  @Test
  void paddingIsZeroTrits() {
    int[] words = GpuTernaryLayout.fromTritter(new byte[] {0x61, (byte) 0x92}, 2, 4);
    int kb = GpuTernaryLayout.kBlocks(4);
    Set<Long> used = new HashSet<>();
    for (int r = 0; r < 2; r++) {
      for (int c = 0; c < 4; c++) {
        used.add(GpuTernaryLayout.wordIndex(r, c, kb) * 32 + GpuTernaryLayout.bitOffset(c));
      }
    }
    for (int i = 0; i < words.length; i++) {
      for (int bit = 0; bit < 32; bit += 2) {
        if (!used.contains(i * 32L + bit)) {
          assertEquals(1, (words[i] >>> bit) & 3, "padding code at word " + i + " bit " + bit);
        }
      }
    }
  }

  @Test
  void everyElementHasItsOwnSlot() {
    int rows = 16;
    int cols = 512;
    int kb = GpuTernaryLayout.kBlocks(cols);
    Set<Long> slots = new HashSet<>();
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        long slot = GpuTernaryLayout.wordIndex(r, c, kb) * 32 + GpuTernaryLayout.bitOffset(c);
        assertEquals(true, slots.add(slot), "(" + r + ", " + c + ") shares a slot");
      }
    }
    assertEquals(GpuTernaryLayout.wordCount(rows, cols) * 16, slots.size());
  }

  @Test
  void lanePositionsArePermutationsOfEachBlock() {
    boolean[] seen = new boolean[512];
    for (int c = 0; c < 512; c++) {
      int p = GpuTernaryLayout.lanePosition(c);
      assertEquals(c / 256, p / 256);
      seen[p] = true;
    }
    for (boolean s : seen) {
      assertEquals(true, s);
    }
  }

  @Test
  void rejectsBadShapes() {
    assertThrows(ShapeException.class, () -> GpuTernaryLayout.fromTritter(new byte[1], 0, 4));
    assertThrows(ShapeException.class, () -> GpuTernaryLayout.fromTritter(new byte[1], 1, 5));
    assertThrows(ShapeException.class, () -> GpuTernaryLayout.toTritter(new int[3], 1, 5));
  }

  /**
   * Replays aph_gemv_s8's index arithmetic in Java (lane-layout int8 activations, masked chunks,
   * one accumulator per chunk shifted back exactly) and checks it against the scalar reference.
   */
  @ParameterizedTest
  @CsvSource({"1,1", "3,17", "17,63", "8,256", "9,300", "20,1021"})
  void gemvKernelArithmeticMatchesTheReference(int rows, int cols) {
    Random rnd = new Random(rows * 7919L + cols);
    byte[] packed = randomPacked(rnd, rows, cols);
    int[] words = GpuTernaryLayout.fromTritter(packed, rows, cols);
    int kBlocks = GpuTernaryLayout.kBlocks(cols);
    byte[] q = new byte[cols];
    byte[] lane = new byte[kBlocks * 256];
    int xsum = 0;
    for (int c = 0; c < cols; c++) {
      q[c] = (byte) (rnd.nextInt(255) - 127);
      lane[GpuTernaryLayout.lanePosition(c)] = q[c];
      xsum += q[c];
    }
    for (int g = 0; g < (rows + 7) / 8; g++) {
      int[] rowAcc = new int[8];
      for (int ln = 0; ln < 32; ln++) {
        int q4 = ln & 3;
        int a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (int kb = 0; kb < kBlocks; kb++) {
          for (int i = 0; i < 4; i++) {
            int w = words[(g * kBlocks + kb) * 128 + 32 * i + ln];
            int base = kb * 256 + 64 * q4 + 16 * i;
            a0 = dp4aUs(w & 0x03030303, lane, base, a0);
            a1 = dp4aUs(w & (0x03030303 << 2), lane, base + 4, a1);
            a2 = dp4aUs(w & (0x03030303 << 4), lane, base + 8, a2);
            a3 = dp4aUs(w & (0x03030303 << 6), lane, base + 12, a3);
          }
        }
        rowAcc[ln >> 2] += a0 + (a1 >> 2) + (a2 >> 4) + (a3 >> 6);
      }
      for (int r = 0; r < 8 && 8 * g + r < rows; r++) {
        int row = 8 * g + r;
        int expect = 0;
        for (int c = 0; c < cols; c++) {
          expect += ScalarReference.trit(packed, cols, row, c) * q[c];
        }
        assertEquals(expect, rowAcc[r] - xsum, "row " + row);
      }
    }
  }

  private static int dp4aUs(int a, byte[] x, int off, int c) {
    for (int b = 0; b < 4; b++) {
      c += ((a >>> (8 * b)) & 0xff) * x[off + b];
    }
    return c;
  }
}
