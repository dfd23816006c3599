// Aphelion GPU ternary layout and shared device helpers.
//
// GPU weight layout ("tile layout", documented in docs/formats.md, section "GPU layout"):
//   * rows are padded to a multiple of 16, columns (k) to a multiple of 256;
//   * a tile holds 8 rows x 256 columns = 2048 trits = 128 32-bit words = 512 bytes;
//   * tiles are stored row-group major: tile (g, kb) at word offset (g * kBlocks + kb) * 128;
//   * inside a tile, word index = w * 32 + lane (w = 0..3, lane = 0..31), so that a warp reading
//     word w of a tile reads 128 contiguous bytes;
//   * lane = 4 * r + q holds row 8g + r; word w, chunk j (j = 0..3) holds the four trits of
//     k = 256 kb + 32 s + 16 h + 4 q + b (b = 0..3), with s = 2 w + (j >> 1) and h = j & 1,
//     trit b at bits 8 b + 2 j, coded as v = w + 1 (0 = -1, 1 = 0, 2 = +1);
//   * padding trits are 0 (v = 1).
// So (word >> 2j) & 0x03030303 is four unsigned bytes v for four consecutive k: exactly the
// 32-bit operand that dp4a and the int8 mma.sync fragments want, and the two chunks j, j + 1 of a
// word are the k and k + 16 halves of one m16n8k32 fragment row (mma step s).
// Kernels compute sum(v * x) - sum(x) = sum(w * x); sum(x) of each int8 token comes from the
// quantization kernel.
#pragma once
#include <stdint.h>

#define APH_KBLOCK 256
#define APH_TILE_WORDS 128
#define APH_CHUNK_MASK 0x03030303u

// Activation layouts of the int8 quantizer (per token, padded to a multiple of 256 with zeros).
#define APH_LAYOUT_NATURAL 0
// Lane layout: inside each 256 block, k = 32 s + 16 h + 4 q + b is stored at 64 q + 8 s + 4 h + b,
// so the 64 bytes a lane q needs for one tile are contiguous (four 16-byte loads).
#define APH_LAYOUT_LANE 1

__device__ __forceinline__ unsigned aph_chunk(unsigned word, int j) {
  return (word >> (2 * j)) & APH_CHUNK_MASK;
}

// Four unsigned bytes (a) times four signed bytes (b), plus c.
__device__ __forceinline__ int aph_dp4a_us(unsigned a, int b, int c) {
  int d;
  asm("dp4a.u32.s32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
  return d;
}

// Byte b (0..3) of a chunk, v in {0,1,2}, as the float v - 1: 0x4B0000vv is 2^23 + v exactly.
__device__ __forceinline__ float aph_trit_f(unsigned chunkBytes, int b) {
  return __int_as_float(__byte_perm(chunkBytes, 0x4B000000u, 0x7540 + b)) - 8388609.0f;
}

// d += a (16x32 u8 weights) * b (32x8 s8 activations), int32 accumulate.
__device__ __forceinline__ void aph_mma_u8s8(int (&d)[4], unsigned a0, unsigned a1, unsigned a2,
                                             unsigned a3, unsigned b0, unsigned b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.u8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

// d += a (16x32 s8 activations) * b (32x8 u8 weights), int32 accumulate.
__device__ __forceinline__ void aph_mma_s8u8(int (&d)[4], const unsigned (&a)[4], unsigned b0,
                                             unsigned b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.u8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// The int8 epilogue, in the order of the CPU reference (aphelion-tritter's TernaryMatmul):
// ((float) acc * wScale) * xScale.
__device__ __forceinline__ float aph_dequant(int acc, float xScale, float wScale) {
  return __fmul_rn(__fmul_rn(__int2float_rn(acc), wScale), xScale);
}

__device__ __forceinline__ float aph_bf16_to_f32(unsigned short h) {
  return __int_as_float(((unsigned)h) << 16);
}
