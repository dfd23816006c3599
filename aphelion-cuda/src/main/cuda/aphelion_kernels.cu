// Aphelion ternary kernels for NVIDIA GPUs (sm_80 and newer).
//
// Compiled into one fatbin by aphelion-cuda/build-kernels.sh; loaded through the JCuda driver API
// by dev.aphelion.cuda.ternary.CudaTernaryKernels. Every kernel is extern "C" so that the Java side
// finds it by name. The weight layout is described in ternary_layout.cuh and docs/formats.md.
//
// Exactness: the int8 (W1.58A8) paths accumulate in int32 and are exact before the final
// ((float) acc * wScale) * xScale; the activation quantizer (IEEE __fdiv_rn/__fmul_rn, rintf
// half to even) and the absmean quantizer (__fdiv_rn, half away from zero) do the scalar Java
// reference's operations, so they match it bit for bit. The float-activation paths sum in a different order than a scalar loop; their error
// bound is stated in docs/formats.md and checked by the tests.
#include "ternary_layout.cuh"
#include "wgmma_s8.cuh"

// ---------------------------------------------------------------------------------------------
// Small PTX helpers.
// ---------------------------------------------------------------------------------------------
__device__ __forceinline__ unsigned aph_smem_u32(const void* p) {
  return (unsigned)__cvta_generic_to_shared(p);
}

__device__ __forceinline__ void aph_cp_async16(unsigned dst, const void* src) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(src));
}

__device__ __forceinline__ void aph_cp_async_commit() {
  asm volatile("cp.async.commit_group;\n" ::);
}

template <int N>
__device__ __forceinline__ void aph_cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

__device__ __forceinline__ void aph_ldmatrix_x4(unsigned (&r)[4], unsigned addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

__device__ __forceinline__ float aph_warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

__device__ __forceinline__ float aph_warp_sumf(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ int aph_warp_sum(int v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Storage position of k inside a 256 block in the lane layout.
__device__ __forceinline__ int aph_lane_pos(int kk) {
  int s = kk >> 5, h = (kk >> 4) & 1, q = (kk >> 2) & 3, b = kk & 3;
  return 64 * q + 8 * s + 4 * h + b;
}

// ---------------------------------------------------------------------------------------------
// Layout conversion: tritter bytes (2 bits per trit, 00 = 0, 01 = +1, 10 = -1, 11 = 0, LSB first,
// rows start on a byte boundary) <-> GPU tile layout. One thread per 32-bit GPU word.
// ---------------------------------------------------------------------------------------------
extern "C" __global__ void aph_pack_from_tritter(const unsigned char* __restrict__ packed, int rows,
                                                 int cols, int bytesPerRow, int kBlocks,
                                                 int totalWords, unsigned* __restrict__ out) {
  int idx = blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= totalWords) return;
  int tile = idx >> 7, within = idx & 127, wi = within >> 5, lane = within & 31;
  int g = tile / kBlocks, kb = tile - g * kBlocks;
  int row = 8 * g + (lane >> 2), q = lane & 3;
  unsigned word = 0;
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    int s = 2 * wi + (j >> 1), h = j & 1;
#pragma unroll
    for (int b = 0; b < 4; ++b) {
      int k = kb * APH_KBLOCK + 32 * s + 16 * h + 4 * q + b;
      unsigned v = 1;
      if (row < rows && k < cols) {
        unsigned code = (packed[(size_t)row * bytesPerRow + (k >> 2)] >> ((k & 3) * 2)) & 3u;
        v = code == 1u ? 2u : (code == 2u ? 0u : 1u);
      }
      word |= v << (8 * b + 2 * j);
    }
  }
  out[idx] = word;
}

// One thread per output byte of the tritter format; codes 11 are never produced.
extern "C" __global__ void aph_unpack_to_tritter(const unsigned* __restrict__ words, int rows,
                                                 int cols, int bytesPerRow, int kBlocks,
                                                 unsigned char* __restrict__ packed) {
  long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)rows * bytesPerRow) return;
  int row = (int)(idx / bytesPerRow), byteIdx = (int)(idx - (long long)row * bytesPerRow);
  unsigned out = 0;
  for (int i = 0; i < 4; ++i) {
    int k = byteIdx * 4 + i;
    if (k >= cols) break;
    int kb = k >> 8, kk = k & 255;
    int s = kk >> 5, h = (kk >> 4) & 1, q = (kk >> 2) & 3, b = kk & 3;
    int wi = s >> 1, j = 2 * (s & 1) + h, lane = 4 * (row & 7) + q;
    unsigned word = words[((size_t)(row >> 3) * kBlocks + kb) * APH_TILE_WORDS + wi * 32 + lane];
    unsigned v = (word >> (8 * b + 2 * j)) & 3u;
    unsigned code = v == 2u ? 1u : (v == 0u ? 2u : 0u);
    out |= code << (2 * i);
  }
  packed[idx] = (unsigned char)out;
}

// ---------------------------------------------------------------------------------------------
// Absmean (BitNet b1.58) weight quantization, one scale per row:
//   scale = (sum_k |w|, summed in k order in float) / cols, 1.0 if that is 0;
//   q = clamp(round_half_away(w / scale), -1, 1)  (so |w / scale| >= 0.5 gives +-1).
// ---------------------------------------------------------------------------------------------
extern "C" __global__ void aph_absmean_scales(const float* __restrict__ w, int rows, int cols,
                                              float* __restrict__ scales) {
  // A warp owns 32 consecutive rows; the block stages a 32x32 tile through shared memory so that
  // global reads stay coalesced while each lane still sums its own row in k order.
  __shared__ float tile[8][32][33];
  int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  int row0 = (blockIdx.x * 8 + warp) * 32;
  float sum = 0.0f;
  for (int k0 = 0; k0 < cols; k0 += 32) {
    for (int r = 0; r < 32; ++r) {
      int row = row0 + r, k = k0 + lane;
      tile[warp][r][lane] = (row < rows && k < cols) ? w[(size_t)row * cols + k] : 0.0f;
    }
    __syncwarp();
    int n = min(32, cols - k0);
    for (int c = 0; c < n; ++c) sum = __fadd_rn(sum, fabsf(tile[warp][lane][c]));
    __syncwarp();
  }
  int row = row0 + lane;
  if (row < rows) {
    float sc = __fdiv_rn(sum, (float)cols);
    scales[row] = sc == 0.0f ? 1.0f : sc;
  }
}

extern "C" __global__ void aph_absmean_pack(const float* __restrict__ w,
                                            const float* __restrict__ scales, int rows, int cols,
                                            int kBlocks, int totalWords, unsigned* __restrict__ out) {
  int idx = blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= totalWords) return;
  int tile = idx >> 7, within = idx & 127, wi = within >> 5, lane = within & 31;
  int g = tile / kBlocks, kb = tile - g * kBlocks;
  int row = 8 * g + (lane >> 2), q = lane & 3;
  float sc = row < rows ? scales[row] : 1.0f;
  unsigned word = 0;
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    int s = 2 * wi + (j >> 1), h = j & 1;
#pragma unroll
    for (int b = 0; b < 4; ++b) {
      int k = kb * APH_KBLOCK + 32 * s + 16 * h + 4 * q + b;
      unsigned v = 1;
      if (row < rows && k < cols) {
        float t = __fdiv_rn(w[(size_t)row * cols + k], sc);
        v = fabsf(t) >= 0.5f ? (t > 0.0f ? 2u : 0u) : 1u;
      }
      word |= v << (8 * b + 2 * j);
    }
  }
  out[idx] = word;
}

// ---------------------------------------------------------------------------------------------
// Per-token int8 activation quantization (BitNet W1.58A8):
//   scale = max|x| / 127 (1.0 if max|x| is 0), q = clamp(rint(x * (127 / max|x|)), -127, 127),
//   rounding half to even as transformers' BitNet and the Java reference do.
// One block per token (rows >= tokens up to the padded count are written as zeros). Writes q in
// the natural or the lane layout, the int32 sum of q, and the scale.
// ---------------------------------------------------------------------------------------------
template <bool BF16>
__device__ __forceinline__ float aph_load_act(const void* x, size_t i) {
  if (BF16) return aph_bf16_to_f32(reinterpret_cast<const unsigned short*>(x)[i]);
  return reinterpret_cast<const float*>(x)[i];
}

template <bool BF16>
__device__ __forceinline__ signed char aph_quant1(const void* x, size_t base, int k, int K, float inv, int& sum) {
  int v = 0;
  if (k < K) {
    float r = rintf(__fmul_rn(aph_load_act<BF16>(x, base + k), inv));
    // NaN (only from 0 * an inverse that overflowed to infinity) becomes 0, as in the Java reference.
    v = r != r ? 0 : (int)fminf(fmaxf(r, -127.0f), 127.0f);
  }
  sum += v;
  return (signed char)v;
}

// One block (up to 1024 threads) per token. Pass 1 reads the token with several loads in flight
// per thread; pass 2 re-reads it (from cache) four columns at a time and writes one 32-bit word
// per four columns: four consecutive columns stay consecutive in both layouts.
template <bool BF16>
__device__ void aph_quantize_act(const void* __restrict__ x, int ldx, int K, int tokens, int kPad,
                                 int layout, signed char* __restrict__ q, int* __restrict__ xsum,
                                 float* __restrict__ xscale) {
  __shared__ float redf[32];
  __shared__ int redi[32];
  __shared__ float scaleSh;
  __shared__ float invSh;
  int t = blockIdx.x, tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  int nWarps = blockDim.x >> 5;
  unsigned* qrow = reinterpret_cast<unsigned*>(q + (size_t)t * kPad);
  if (t >= tokens) {
    for (int g = tid; g < (kPad >> 2); g += blockDim.x) qrow[g] = 0u;
    if (tid == 0) {
      xsum[t] = 0;
      xscale[t] = 1.0f;
    }
    return;
  }
  size_t base = (size_t)t * ldx;
  float m = 0.0f;
#pragma unroll 8
  for (int k = tid; k < K; k += blockDim.x) m = fmaxf(m, fabsf(aph_load_act<BF16>(x, base + k)));
  m = aph_warp_max(m);
  if (lane == 0) redf[warp] = m;
  __syncthreads();
  if (warp == 0) {
    float v = lane < nWarps ? redf[lane] : 0.0f;
    v = aph_warp_max(v);
    if (lane == 0) {
      scaleSh = v == 0.0f ? 1.0f : __fdiv_rn(v, 127.0f);
      invSh = v == 0.0f ? 1.0f : __fdiv_rn(127.0f, v);
    }
  }
  __syncthreads();
  float scale = scaleSh;
  float inv = invSh;
  int sum = 0;
#pragma unroll 4
  for (int g = tid; g < (kPad >> 2); g += blockDim.x) {
    int k = g << 2;
    unsigned b0 = (unsigned char)aph_quant1<BF16>(x, base, k, K, inv, sum);
    unsigned b1 = (unsigned char)aph_quant1<BF16>(x, base, k + 1, K, inv, sum);
    unsigned b2 = (unsigned char)aph_quant1<BF16>(x, base, k + 2, K, inv, sum);
    unsigned b3 = (unsigned char)aph_quant1<BF16>(x, base, k + 3, K, inv, sum);
    int pos = layout == APH_LAYOUT_LANE ? ((k & ~255) | aph_lane_pos(k & 255)) : k;
    qrow[pos >> 2] = b0 | (b1 << 8) | (b2 << 16) | (b3 << 24);
  }
  sum = aph_warp_sum(sum);
  if (lane == 0) redi[warp] = sum;
  __syncthreads();
  if (warp == 0) {
    int v = lane < nWarps ? redi[lane] : 0;
    v = aph_warp_sum(v);
    if (lane == 0) {
      xsum[t] = v;
      xscale[t] = scale;
    }
  }
}

extern "C" __global__ void aph_quantize_act_f32(const float* __restrict__ x, int ldx, int K,
                                                int tokens, int kPad, int layout,
                                                signed char* __restrict__ q,
                                                int* __restrict__ xsum,
                                                float* __restrict__ xscale) {
  aph_quantize_act<false>(x, ldx, K, tokens, kPad, layout, q, xsum, xscale);
}

extern "C" __global__ void aph_quantize_act_bf16(const unsigned short* __restrict__ x, int ldx,
                                                 int K, int tokens, int kPad, int layout,
                                                 signed char* __restrict__ q,
                                                 int* __restrict__ xsum,
                                                 float* __restrict__ xscale) {
  aph_quantize_act<true>(x, ldx, K, tokens, kPad, layout, q, xsum, xscale);
}

// Single-pass quantizer for rows whose length and stride are multiples of 4 (16-byte aligned
// float rows, 8-byte aligned bf16 rows) and K <= 256 * 4 * APH_Q1_VEC: 256 threads per token, each
// keeping its APH_Q1_VEC four-column vectors in registers between the max and the quantization,
// so the token is read from memory once, with all of a thread's loads in flight together.
// Same arithmetic as aph_quantize_act, so the same bits.
#define APH_Q1_VEC 16
template <bool BF16>
__device__ __forceinline__ float4 aph_load4(const void* x, size_t i) {
  if (BF16) {
    uint2 raw = __ldg(reinterpret_cast<const uint2*>(reinterpret_cast<const unsigned short*>(x) + i));
    return make_float4(__int_as_float(raw.x << 16), __int_as_float(raw.x & 0xffff0000u),
                       __int_as_float(raw.y << 16), __int_as_float(raw.y & 0xffff0000u));
  }
  return __ldg(reinterpret_cast<const float4*>(reinterpret_cast<const float*>(x) + i));
}

__device__ __forceinline__ unsigned aph_q1(float v, float inv, int& sum) {
  float r = rintf(__fmul_rn(v, inv));
  int iv = r != r ? 0 : (int)fminf(fmaxf(r, -127.0f), 127.0f);
  sum += iv;
  return (unsigned)(iv & 0xff);
}

template <bool BF16>
__device__ void aph_quantize_act1(const void* __restrict__ x, int ldx, int K, int tokens, int kPad,
                                  int layout, signed char* __restrict__ q, int* __restrict__ xsum,
                                  float* __restrict__ xscale) {
  __shared__ float redf[8];
  __shared__ int redi[8];
  int t = blockIdx.x, tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  unsigned* qrow = reinterpret_cast<unsigned*>(q + (size_t)t * kPad);
  if (t >= tokens) {
    for (int g = tid; g < (kPad >> 2); g += 256) qrow[g] = 0u;
    if (tid == 0) {
      xsum[t] = 0;
      xscale[t] = 1.0f;
    }
    return;
  }
  size_t base = (size_t)t * ldx;
  int nVec = K >> 2;
  float4 v[APH_Q1_VEC];
#pragma unroll
  for (int i = 0; i < APH_Q1_VEC; ++i) {
    int g = tid + 256 * i;
    v[i] = g < nVec ? aph_load4<BF16>(x, base + 4 * (size_t)g) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  }
  float m = 0.0f;
#pragma unroll
  for (int i = 0; i < APH_Q1_VEC; ++i) {
    m = fmaxf(m, fmaxf(fmaxf(fabsf(v[i].x), fabsf(v[i].y)), fmaxf(fabsf(v[i].z), fabsf(v[i].w))));
  }
  m = aph_warp_max(m);
  if (lane == 0) redf[warp] = m;
  __syncthreads();
  m = redf[0];
#pragma unroll
  for (int i = 1; i < 8; ++i) m = fmaxf(m, redf[i]);
  float scale = m == 0.0f ? 1.0f : __fdiv_rn(m, 127.0f);
  float inv = m == 0.0f ? 1.0f : __fdiv_rn(127.0f, m);
  int sum = 0;
#pragma unroll
  for (int i = 0; i < APH_Q1_VEC; ++i) {
    int g = tid + 256 * i;
    if (g < nVec) {
      int k = g << 2;
      unsigned word = aph_q1(v[i].x, inv, sum) | (aph_q1(v[i].y, inv, sum) << 8) |
                      (aph_q1(v[i].z, inv, sum) << 16) | (aph_q1(v[i].w, inv, sum) << 24);
      int pos = layout == APH_LAYOUT_LANE ? ((k & ~255) | aph_lane_pos(k & 255)) : k;
      qrow[pos >> 2] = word;
    }
  }
  // Padding columns K..kPad are zero in both layouts (the lane layout permutes within 256 blocks,
  // and K is a multiple of 4, so a padding word holds padding only).
  for (int g = nVec + tid; g < (kPad >> 2); g += 256) {
    int k = g << 2;
    int pos = layout == APH_LAYOUT_LANE ? ((k & ~255) | aph_lane_pos(k & 255)) : k;
    qrow[pos >> 2] = 0u;
  }
  sum = aph_warp_sum(sum);
  if (lane == 0) redi[warp] = sum;
  __syncthreads();
  if (tid == 0) {
    int s = 0;
#pragma unroll
    for (int i = 0; i < 8; ++i) s += redi[i];
    xsum[t] = s;
    xscale[t] = scale;
  }
}

extern "C" __global__ void __launch_bounds__(256) aph_quantize_act1_f32(
    const float* __restrict__ x, int ldx, int K, int tokens, int kPad, int layout,
    signed char* __restrict__ q, int* __restrict__ xsum, float* __restrict__ xscale) {
  aph_quantize_act1<false>(x, ldx, K, tokens, kPad, layout, q, xsum, xscale);
}

extern "C" __global__ void __launch_bounds__(256) aph_quantize_act1_bf16(
    const unsigned short* __restrict__ x, int ldx, int K, int tokens, int kPad, int layout,
    signed char* __restrict__ q, int* __restrict__ xsum, float* __restrict__ xscale) {
  aph_quantize_act1<true>(x, ldx, K, tokens, kPad, layout, q, xsum, xscale);
}

// ---------------------------------------------------------------------------------------------
// W1.58A8 GEMV: y[t][row] = ((float)(sum_k w*q) * wScale[row]) * xScale[t], dp4a on the
// unsigned trit codes: each word chunk j is masked in place (bytes v << 2j, at most 128) and goes
// to its own accumulator, which is then shifted back exactly. Block = 8 warps on one 8-row group,
// warps split k. Grid: (rowGroups, tokens). Activations in the lane layout.
// ---------------------------------------------------------------------------------------------
extern "C" __global__ void __launch_bounds__(256)
    aph_gemv_s8(const unsigned* __restrict__ W, const signed char* __restrict__ q,
                const int* __restrict__ xsum, const float* __restrict__ xscale,
                const float* __restrict__ wscale, float* __restrict__ y, int rows, int ldy,
                int kBlocks) {
  __shared__ int part[8][8];
  int g = blockIdx.x, t = blockIdx.y;
  int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, q4 = lane & 3;
  const unsigned* wt = W + (size_t)g * kBlocks * APH_TILE_WORDS + lane;
  const int4* xt = reinterpret_cast<const int4*>(q + (size_t)t * kBlocks * APH_KBLOCK) + q4 * 4;
  int a0 = 0, a1 = 0, a2 = 0, a3 = 0;
#pragma unroll 4
  for (int kb = warp; kb < kBlocks; kb += 8) {
    const unsigned* wp = wt + (size_t)kb * APH_TILE_WORDS;
    unsigned w[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) w[i] = __ldg(wp + 32 * i);
    const int4* xp = xt + kb * 16;
    int4 xv[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) xv[i] = __ldg(xp + i);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      a0 = aph_dp4a_us(w[i] & APH_CHUNK_MASK, xv[i].x, a0);
      a1 = aph_dp4a_us(w[i] & (APH_CHUNK_MASK << 2), xv[i].y, a1);
      a2 = aph_dp4a_us(w[i] & (APH_CHUNK_MASK << 4), xv[i].z, a2);
      a3 = aph_dp4a_us(w[i] & (APH_CHUNK_MASK << 6), xv[i].w, a3);
    }
  }
  int acc = a0 + (a1 >> 2) + (a2 >> 4) + (a3 >> 6);
  acc += __shfl_xor_sync(0xffffffffu, acc, 1);
  acc += __shfl_xor_sync(0xffffffffu, acc, 2);
  if (q4 == 0) part[warp][lane >> 2] = acc;
  __syncthreads();
  if (threadIdx.x < 8) {
    int r = threadIdx.x, sum = 0;
#pragma unroll
    for (int i = 0; i < 8; ++i) sum += part[i][r];
    int row = 8 * g + r;
    if (row < rows) y[(size_t)t * ldy + row] = aph_dequant(sum - xsum[t], xscale[t], wscale[row]);
  }
}

// ---------------------------------------------------------------------------------------------
// Fused per-token quantization + W1.58A8 GEMV for up to three matrices of the same width (the
// q/k/v or gate/up projections of one input): every block quantizes the float token itself into
// shared memory (lane layout; same arithmetic as aph_quantize_act1, so the same int8 values,
// sum and scale, and the same output bits as quantize + aph_gemv_s8), then loops over 8-row
// groups of the matrices, grid-stride, with the aph_gemv_s8 body reading the int8 token from
// shared memory. The token is small and L2-resident; the grid is capped (a few blocks per SM)
// so that it is read a few hundred times, not once per row group. Before its prologue a block
// prefetches its first group's weights into L2, so the quantization overlaps the first loads.
// Epilogue per row: v = dequant (+ bias); y = v; residual += v (one matrix only). Block (0, t)
// also writes the token's int8 row, sum and scale to qOut/xsumOut/xscaleOut when qOut is set.
// With a gain (K floats) the token is RMS-normalized with eps before it is quantized.
// Grid (blocks, tokens), 256 threads (at most 64 registers: 4 blocks per SM stay resident),
// kBlocks * 256 bytes of dynamic shared memory.
// ---------------------------------------------------------------------------------------------
#define APH_FQ_VEC 8
// RMSNorm of four values: (v * rinv) * g, each product rounded (aph_dec_rmsnorm's order).
__device__ __forceinline__ float4 aph_norm4(float4 v, float rinv, float4 g) {
  return make_float4(__fmul_rn(__fmul_rn(v.x, rinv), g.x), __fmul_rn(__fmul_rn(v.y, rinv), g.y),
                     __fmul_rn(__fmul_rn(v.z, rinv), g.z), __fmul_rn(__fmul_rn(v.w, rinv), g.w));
}
extern "C" __global__ void __launch_bounds__(256, 4) aph_gemv_s8_fused(
    const float* __restrict__ x, int ldx, int K, int kBlocks,
    const unsigned* __restrict__ W0, const unsigned* __restrict__ W1, const unsigned* __restrict__ W2,
    const float* __restrict__ s0, const float* __restrict__ s1, const float* __restrict__ s2,
    const float* __restrict__ b0, const float* __restrict__ b1, const float* __restrict__ b2,
    float* __restrict__ y0, float* __restrict__ y1, float* __restrict__ y2,
    int rows0, int rows1, int rows2, int ldy0, int ldy1, int ldy2,
    float* __restrict__ res, int ldr,
    signed char* __restrict__ qOut, int* __restrict__ xsumOut, float* __restrict__ xscaleOut,
    const float* __restrict__ gain, float eps) {
  extern __shared__ int4 aph_fused_q[];
  __shared__ int part[8][8];
  __shared__ float redf[8];
  __shared__ int redi[8];
  int t = blockIdx.y, tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, q4 = lane & 3;
  int g0 = (rows0 + 7) >> 3, g1 = (rows1 + 7) >> 3, g2 = (rows2 + 7) >> 3;
  int e1 = g0, e2 = g0 + g1, total = g0 + g1 + g2;
  size_t tileStride = (size_t)kBlocks * APH_TILE_WORDS;
  {
    int g = blockIdx.x;
    if (g < total) {
      const unsigned* wp = g < e1 ? W0 + (size_t)g * tileStride
                         : g < e2 ? W1 + (size_t)(g - e1) * tileStride : W2 + (size_t)(g - e2) * tileStride;
      // 128-byte lines of the first group: kBlocks * 4 of them.
      for (int i = tid; i < kBlocks * 4; i += 256) {
        asm volatile("prefetch.global.L2 [%0];" ::"l"(wp + 32 * (size_t)i));
      }
    }
  }
  // Prologue: max|x|, then quantize into shared memory.
  const float* xr = x + (size_t)t * ldx;
  int kPad = kBlocks * APH_KBLOCK;
  bool vec = ((K | ldx) & 3) == 0 && ((reinterpret_cast<size_t>(x) | reinterpret_cast<size_t>(gain)) & 15) == 0;
  float m = 0.0f;
  // Up to 8192 columns the token stays in registers between the max and the quantization, so
  // each block reads it from L2 once (the prologue is bound by those reads: blocks x 4K bytes);
  // 8 vectors keep the kernel within 64 registers without spills.
  bool regs = vec && (K >> 2) <= 256 * APH_FQ_VEC;
  bool norm = gain != nullptr;
  float4 rv[APH_FQ_VEC];
  if (regs) {
#pragma unroll
    for (int i = 0; i < APH_FQ_VEC; ++i) {
      int g = tid + 256 * i;
      rv[i] = g < (K >> 2) ? __ldg(reinterpret_cast<const float4*>(xr) + g) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    }
  }
  // With a gain the token is first RMS-normalized (aph_dec_rmsnorm's arithmetic; the sum of
  // squares in this block's order), so the norm costs no kernel and no write of its output.
  float rinv = 1.0f;
  if (norm) {
    float ss = 0.0f;
    if (regs) {
#pragma unroll
      for (int i = 0; i < APH_FQ_VEC; ++i) {
        ss = fmaf(rv[i].x, rv[i].x, ss);
        ss = fmaf(rv[i].y, rv[i].y, ss);
        ss = fmaf(rv[i].z, rv[i].z, ss);
        ss = fmaf(rv[i].w, rv[i].w, ss);
      }
    } else {
      for (int k = tid; k < K; k += 256) {
        float v = __ldg(xr + k);
        ss = fmaf(v, v, ss);
      }
    }
    ss = aph_warp_sumf(ss);
    if (lane == 0) redf[warp] = ss;
    __syncthreads();
    ss = redf[0];
#pragma unroll
    for (int i = 1; i < 8; ++i) ss += redf[i];
    __syncthreads();  // redf is reused for the max
    rinv = (float)(1.0 / sqrt((double)__fadd_rn(__fdiv_rn(ss, (float)K), eps)));
    if (regs) {
#pragma unroll
      for (int i = 0; i < APH_FQ_VEC; ++i) {
        int g = tid + 256 * i;
        if (g < (K >> 2)) rv[i] = aph_norm4(rv[i], rinv, __ldg(reinterpret_cast<const float4*>(gain) + g));
      }
    }
  }
  if (regs) {
#pragma unroll
    for (int i = 0; i < APH_FQ_VEC; ++i) {
      m = fmaxf(m, fmaxf(fmaxf(fabsf(rv[i].x), fabsf(rv[i].y)), fmaxf(fabsf(rv[i].z), fabsf(rv[i].w))));
    }
  } else if (vec) {
#pragma unroll 4
    for (int g = tid; g < (K >> 2); g += 256) {
      float4 v = __ldg(reinterpret_cast<const float4*>(xr) + g);
      if (norm) v = aph_norm4(v, rinv, __ldg(reinterpret_cast<const float4*>(gain) + g));
      m = fmaxf(m, fmaxf(fmaxf(fabsf(v.x), fabsf(v.y)), fmaxf(fabsf(v.z), fabsf(v.w))));
    }
  } else {
    for (int k = tid; k < K; k += 256) {
      float v = __ldg(xr + k);
      if (norm) v = __fmul_rn(__fmul_rn(v, rinv), __ldg(gain + k));
      m = fmaxf(m, fabsf(v));
    }
  }
  m = aph_warp_max(m);
  if (lane == 0) redf[warp] = m;
  __syncthreads();
  m = redf[0];
#pragma unroll
  for (int i = 1; i < 8; ++i) m = fmaxf(m, redf[i]);
  float scale = m == 0.0f ? 1.0f : __fdiv_rn(m, 127.0f);
  float inv = m == 0.0f ? 1.0f : __fdiv_rn(127.0f, m);
  unsigned* qs = reinterpret_cast<unsigned*>(aph_fused_q);
  unsigned* qg = qOut != nullptr && blockIdx.x == 0 ? reinterpret_cast<unsigned*>(qOut + (size_t)t * kPad) : nullptr;
  int sum = 0;
  if (regs) {
    // kPad <= 8192 here, so these 8 vectors cover every word, padding included (zeros).
#pragma unroll
    for (int i = 0; i < APH_FQ_VEC; ++i) {
      int g = tid + 256 * i;
      if (g < (kPad >> 2)) {
        int k = g << 2;
        unsigned word = aph_q1(rv[i].x, inv, sum) | (aph_q1(rv[i].y, inv, sum) << 8) | (aph_q1(rv[i].z, inv, sum) << 16) |
                        (aph_q1(rv[i].w, inv, sum) << 24);
        int pos = (k & ~255) | aph_lane_pos(k & 255);
        qs[pos >> 2] = word;
        if (qg != nullptr) qg[pos >> 2] = word;
      }
    }
  }
#pragma unroll 4
  for (int g = regs ? (kPad >> 2) : tid; g < (kPad >> 2); g += 256) {
    int k = g << 2;
    float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    if (vec) {
      if (k < K) {
        v = __ldg(reinterpret_cast<const float4*>(xr) + g);
        if (norm) v = aph_norm4(v, rinv, __ldg(reinterpret_cast<const float4*>(gain) + g));
      }
    } else {
      if (k < K) v.x = __ldg(xr + k);
      if (k + 1 < K) v.y = __ldg(xr + k + 1);
      if (k + 2 < K) v.z = __ldg(xr + k + 2);
      if (k + 3 < K) v.w = __ldg(xr + k + 3);
      if (norm) {
        if (k < K) v.x = __fmul_rn(__fmul_rn(v.x, rinv), __ldg(gain + k));
        if (k + 1 < K) v.y = __fmul_rn(__fmul_rn(v.y, rinv), __ldg(gain + k + 1));
        if (k + 2 < K) v.z = __fmul_rn(__fmul_rn(v.z, rinv), __ldg(gain + k + 2));
        if (k + 3 < K) v.w = __fmul_rn(__fmul_rn(v.w, rinv), __ldg(gain + k + 3));
      }
    }
    // Padding columns quantize to 0 (0 * inv, inv finite), as in the unfused quantizers.
    unsigned word = aph_q1(v.x, inv, sum) | (aph_q1(v.y, inv, sum) << 8) | (aph_q1(v.z, inv, sum) << 16) |
                    (aph_q1(v.w, inv, sum) << 24);
    int pos = (k & ~255) | aph_lane_pos(k & 255);
    qs[pos >> 2] = word;
    if (qg != nullptr) qg[pos >> 2] = word;
  }
  sum = aph_warp_sum(sum);
  if (lane == 0) redi[warp] = sum;
  __syncthreads();
  int xs = 0;
#pragma unroll
  for (int i = 0; i < 8; ++i) xs += redi[i];
  if (qg != nullptr && tid == 0) {
    xsumOut[t] = xs;
    xscaleOut[t] = scale;
  }
  const int4* xt = aph_fused_q + q4 * 4;
  for (int g = blockIdx.x; g < total; g += gridDim.x) {
    int mi = g < e1 ? 0 : g < e2 ? 1 : 2;
    int gl = mi == 0 ? g : mi == 1 ? g - e1 : g - e2;
    const unsigned* W = mi == 0 ? W0 : mi == 1 ? W1 : W2;
    const unsigned* wt = W + (size_t)gl * tileStride + lane;
    int a0 = 0, a1 = 0, a2 = 0, a3 = 0;
#pragma unroll 4
    for (int kb = warp; kb < kBlocks; kb += 8) {
      const unsigned* wp = wt + (size_t)kb * APH_TILE_WORDS;
      unsigned w[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) w[i] = __ldg(wp + 32 * i);
      const int4* xp = xt + kb * 16;
      int4 xv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) xv[i] = xp[i];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        a0 = aph_dp4a_us(w[i] & APH_CHUNK_MASK, xv[i].x, a0);
        a1 = aph_dp4a_us(w[i] & (APH_CHUNK_MASK << 2), xv[i].y, a1);
        a2 = aph_dp4a_us(w[i] & (APH_CHUNK_MASK << 4), xv[i].z, a2);
        a3 = aph_dp4a_us(w[i] & (APH_CHUNK_MASK << 6), xv[i].w, a3);
      }
    }
    int acc = a0 + (a1 >> 2) + (a2 >> 4) + (a3 >> 6);
    acc += __shfl_xor_sync(0xffffffffu, acc, 1);
    acc += __shfl_xor_sync(0xffffffffu, acc, 2);
    if (q4 == 0) part[warp][lane >> 2] = acc;
    __syncthreads();
    if (tid < 8) {
      int r = tid, total8 = 0;
#pragma unroll
      for (int i = 0; i < 8; ++i) total8 += part[i][r];
      int row = 8 * gl + r;
      int rows = mi == 0 ? rows0 : mi == 1 ? rows1 : rows2;
      if (row < rows) {
        const float* ws = mi == 0 ? s0 : mi == 1 ? s1 : s2;
        const float* bb = mi == 0 ? b0 : mi == 1 ? b1 : b2;
        float* yy = mi == 0 ? y0 : mi == 1 ? y1 : y2;
        int ldy = mi == 0 ? ldy0 : mi == 1 ? ldy1 : ldy2;
        float v = aph_dequant(total8 - xs, scale, ws[row]);
        if (bb != nullptr) v = __fadd_rn(v, bb[row]);
        yy[(size_t)t * ldy + row] = v;
        if (res != nullptr) res[(size_t)t * ldr + row] = __fadd_rn(res[(size_t)t * ldr + row], v);
      }
    }
    __syncthreads();
  }
}

// ---------------------------------------------------------------------------------------------
// W1.58A8 skinny GEMM for 2..64 tokens on int8 tensor cores: the weights are the A operand
// (m16 = two 8-row groups), tokens the B operand (n8 per tile), mma.sync m16n8k32 u8 x s8.
// Block = 8 warps on one 16-row tile, warps split k; NT token tiles of 8. Activations in the
// lane layout, token rows padded to a multiple of 8 with zeros.
// ---------------------------------------------------------------------------------------------
template <int NT>
__device__ __forceinline__ void aph_gemm_s8_skinny(const unsigned* __restrict__ W,
                                                   const signed char* __restrict__ q,
                                                   const int* __restrict__ xsum,
                                                   const float* __restrict__ xscale,
                                                   const float* __restrict__ wscale,
                                                   float* __restrict__ y, int rows, int ldy,
                                                   int kBlocks, int tokens) {
  __shared__ int red[8][NT][32][4];
  int mt = blockIdx.x;
  int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, q4 = lane & 3, tok = lane >> 2;
  size_t kPad = (size_t)kBlocks * APH_KBLOCK;
  const unsigned* w0p = W + (size_t)(2 * mt) * kBlocks * APH_TILE_WORDS + lane;
  const unsigned* w1p = w0p + (size_t)kBlocks * APH_TILE_WORDS;
  int acc[NT][4];
#pragma unroll
  for (int n = 0; n < NT; ++n)
#pragma unroll
    for (int i = 0; i < 4; ++i) acc[n][i] = 0;

  for (int kb = warp; kb < kBlocks; kb += 8) {
    unsigned A0[4], A1[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      A0[i] = __ldg(w0p + (size_t)kb * APH_TILE_WORDS + 32 * i);
      A1[i] = __ldg(w1p + (size_t)kb * APH_TILE_WORDS + 32 * i);
    }
    unsigned a[8][4];
#pragma unroll
    for (int s = 0; s < 8; ++s) {
      int wi = s >> 1, j = 2 * (s & 1);
      a[s][0] = aph_chunk(A0[wi], j);
      a[s][1] = aph_chunk(A1[wi], j);
      a[s][2] = aph_chunk(A0[wi], j + 1);
      a[s][3] = aph_chunk(A1[wi], j + 1);
    }
#pragma unroll
    for (int n = 0; n < NT; ++n) {
      const int4* xp = reinterpret_cast<const int4*>(q + (size_t)(n * 8 + tok) * kPad +
                                                     (size_t)kb * APH_KBLOCK + 64 * q4);
      int4 xv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) xv[i] = __ldg(xp + i);
#pragma unroll
      for (int s = 0; s < 8; ++s) {
        const int4& v = xv[s >> 1];
        unsigned b0 = (s & 1) ? (unsigned)v.z : (unsigned)v.x;
        unsigned b1 = (s & 1) ? (unsigned)v.w : (unsigned)v.y;
        aph_mma_u8s8(acc[n], a[s][0], a[s][1], a[s][2], a[s][3], b0, b1);
      }
    }
  }
#pragma unroll
  for (int n = 0; n < NT; ++n)
#pragma unroll
    for (int i = 0; i < 4; ++i) red[warp][n][lane][i] = acc[n][i];
  __syncthreads();
  for (int idx = threadIdx.x; idx < NT * 128; idx += blockDim.x) {
    int n = idx >> 7, ln = (idx >> 2) & 31, i = idx & 3;
    int sum = 0;
#pragma unroll
    for (int w = 0; w < 8; ++w) sum += red[w][n][ln][i];
    int row = 16 * mt + (ln >> 2) + 8 * (i >> 1);
    int token = n * 8 + 2 * (ln & 3) + (i & 1);
    if (row < rows && token < tokens) {
      y[(size_t)token * ldy + row] = aph_dequant(sum - xsum[token], xscale[token], wscale[row]);
    }
  }
}

#define APH_SKINNY(NT)                                                                          \
  extern "C" __global__ void __launch_bounds__(256) aph_gemm_s8_skinny_##NT(                   \
      const unsigned* __restrict__ W, const signed char* __restrict__ q,                        \
      const int* __restrict__ xsum, const float* __restrict__ xscale,                           \
      const float* __restrict__ wscale, float* __restrict__ y, int rows, int ldy, int kBlocks,  \
      int tokens) {                                                                             \
    aph_gemm_s8_skinny<NT>(W, q, xsum, xscale, wscale, y, rows, ldy, kBlocks, tokens);          \
  }
APH_SKINNY(1)
APH_SKINNY(2)
APH_SKINNY(4)
APH_SKINNY(8)

// ---------------------------------------------------------------------------------------------
// W1.58A8 GEMM for many tokens on int8 tensor cores: tokens are the A operand (s8, natural layout,
// staged by cp.async into XOR-swizzled shared memory, read with ldmatrix), weights the B operand
// (2-bit tiles staged as they are, unpacked to u8 fragments in registers: two ALU ops per
// fragment register, shared by the MT m-tiles of a warp). STAGES-deep cp.async pipeline over
// 256-wide k blocks. Block tile BM = WARPS_M * MT * 16 tokens by BN = WARPS_N * WN * 8 rows.
// Grid: (token blocks, row blocks), token blocks fastest so that the blocks that share a weight
// tile run together. Token rows of q are padded to qRows (a multiple of BM) with zeros.
// ---------------------------------------------------------------------------------------------
template <int MT, int WN, int WARPS_M, int WARPS_N, int STAGES>
__device__ __forceinline__ void aph_gemm_s8_tc(const unsigned* __restrict__ W,
                                               const signed char* __restrict__ q,
                                               const int* __restrict__ xsum,
                                               const float* __restrict__ xscale,
                                               const float* __restrict__ wscale,
                                               float* __restrict__ y, int rows, int rowGroups,
                                               int ldy, int kBlocks, int tokens) {
  constexpr int BM = WARPS_M * MT * 16;
  constexpr int B_TILES = WARPS_N * WN;
  constexpr int NTHREADS = WARPS_M * WARPS_N * 32;
  constexpr int A_STAGE = BM * APH_KBLOCK;
  constexpr int B_STAGE = B_TILES * APH_TILE_WORDS * 4;
  extern __shared__ __align__(128) unsigned char aph_smem[];
  unsigned char* sA = aph_smem;
  unsigned char* sB = aph_smem + STAGES * A_STAGE;

  int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  int wm = warp / WARPS_N, wn = warp - wm * WARPS_N;
  int m0 = blockIdx.x * BM;
  int g0 = blockIdx.y * B_TILES;
  size_t kPad = (size_t)kBlocks * APH_KBLOCK;

  auto loadStage = [&](int stage, int kb) {
    unsigned char* dA = sA + stage * A_STAGE;
#pragma unroll
    for (int c = tid; c < BM * 16; c += NTHREADS) {
      int row = c >> 4, ch = c & 15;
      const signed char* src = q + (size_t)(m0 + row) * kPad + (size_t)kb * APH_KBLOCK + ch * 16;
      aph_cp_async16(aph_smem_u32(dA + row * APH_KBLOCK + ((ch ^ (row & 7)) << 4)), src);
    }
    unsigned char* dB = sB + stage * B_STAGE;
#pragma unroll
    for (int c = tid; c < B_TILES * 32; c += NTHREADS) {
      int tile = c >> 5, ch = c & 31;
      int g = min(g0 + tile, rowGroups - 1);
      const unsigned char* src =
          reinterpret_cast<const unsigned char*>(W + ((size_t)g * kBlocks + kb) * APH_TILE_WORDS) +
          ch * 16;
      aph_cp_async16(aph_smem_u32(dB + tile * 512 + ch * 16), src);
    }
  };

  int acc[MT][WN][4];
#pragma unroll
  for (int i = 0; i < MT; ++i)
#pragma unroll
    for (int n = 0; n < WN; ++n)
#pragma unroll
      for (int r = 0; r < 4; ++r) acc[i][n][r] = 0;

#pragma unroll
  for (int st = 0; st < STAGES - 1; ++st) {
    if (st < kBlocks) loadStage(st, st);
    aph_cp_async_commit();
  }

  // ldmatrix row/column of this lane inside a 16x32 A fragment.
  int lrow = (lane & 7) + ((lane >> 3) & 1) * 8;
  int lcol = lane >> 4;

  for (int kb = 0; kb < kBlocks; ++kb) {
    aph_cp_async_wait<STAGES - 2>();
    __syncthreads();
    int nk = kb + STAGES - 1;
    if (nk < kBlocks) loadStage(nk % STAGES, nk);
    aph_cp_async_commit();

    int stage = kb % STAGES;
    const unsigned char* cA = sA + stage * A_STAGE;
    const unsigned* cB = reinterpret_cast<const unsigned*>(sB + stage * B_STAGE);
#pragma unroll
    for (int s = 0; s < 8; ++s) {
      unsigned a[MT][4];
#pragma unroll
      for (int i = 0; i < MT; ++i) {
        int row = wm * MT * 16 + i * 16 + lrow;
        int ch = 2 * s + lcol;
        aph_ldmatrix_x4(a[i], aph_smem_u32(cA + row * APH_KBLOCK + ((ch ^ (row & 7)) << 4)));
      }
#pragma unroll
      for (int n = 0; n < WN; ++n) {
        unsigned bw = cB[(wn * WN + n) * APH_TILE_WORDS + (s >> 1) * 32 + lane];
        unsigned b0 = aph_chunk(bw, 2 * (s & 1));
        unsigned b1 = aph_chunk(bw, 2 * (s & 1) + 1);
#pragma unroll
        for (int i = 0; i < MT; ++i) aph_mma_s8u8(acc[i][n], a[i], b0, b1);
      }
    }
  }
  aph_cp_async_wait<0>();

#pragma unroll
  for (int i = 0; i < MT; ++i) {
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      int token = m0 + wm * MT * 16 + i * 16 + (lane >> 2) + 8 * (r >> 1);
      if (token >= tokens) continue;
      int xs = xsum[token];
      float xsc = xscale[token];
#pragma unroll
      for (int n = 0; n < WN; ++n) {
        int row = (g0 + wn * WN + n) * 8 + 2 * (lane & 3) + (r & 1);
        if (row < rows) y[(size_t)token * ldy + row] = aph_dequant(acc[i][n][r] - xs, xsc, wscale[row]);
      }
    }
  }
}

#define APH_TC(NAME, MT, WN, WM, WNW, ST)                                                        \
  extern "C" __global__ void __launch_bounds__(WM * WNW * 32, 1) NAME(                          \
      const unsigned* __restrict__ W, const signed char* __restrict__ q,                         \
      const int* __restrict__ xsum, const float* __restrict__ xscale,                            \
      const float* __restrict__ wscale, float* __restrict__ y, int rows, int rowGroups, int ldy, \
      int kBlocks, int tokens) {                                                                 \
    aph_gemm_s8_tc<MT, WN, WM, WNW, ST>(W, q, xsum, xscale, wscale, y, rows, rowGroups, ldy,     \
                                        kBlocks, tokens);                                        \
  }
// 128 x 256 tile, warp tile 64 x 64.
APH_TC(aph_gemm_s8_tc_128x256, 4, 8, 2, 4, 3)
// 128 x 128 tile, warp tile 64 x 32.
APH_TC(aph_gemm_s8_tc_128x128, 4, 4, 2, 4, 3)
// 128 x 128 tile, warp tile 32 x 64.
APH_TC(aph_gemm_s8_tc_128x128n, 2, 8, 4, 2, 3)
// 128 x 256 tile, four stages.
APH_TC(aph_gemm_s8_tc_128x256s4, 4, 8, 2, 4, 4)
// 256 x 128 tile, warp tile 64 x 64.
APH_TC(aph_gemm_s8_tc_256x128, 4, 8, 4, 2, 3)

// ---------------------------------------------------------------------------------------------
// W1.58A8 GEMM on Hopper warpgroup MMA (wgmma, sm_90a only). The weights are the A operand in
// registers: each warp reads its two 8-row tiles of a 256-wide k block straight from global memory
// (one k block ahead) and aph_chunk turns them into u8 fragments, so the 2-bit weights never pass
// through shared memory. The tokens are the B operand: s8 rows in the natural layout, staged by
// cp.async into a STAGES-deep ring of 128-byte-swizzled tiles (two 128-column halves of BN rows
// per k block). Block = WG warpgroups of 64 weight rows each, all on the same BN tokens.
// Grid: (token blocks, row blocks), as the mma.sync kernels. Accumulation is int32 (exact).
// ---------------------------------------------------------------------------------------------
template <int WG, int BN, int STAGES>
__device__ __forceinline__ void aph_gemm_s8_wg(const unsigned* __restrict__ W,
                                               const signed char* __restrict__ q,
                                               const int* __restrict__ xsum,
                                               const float* __restrict__ xscale,
                                               const float* __restrict__ wscale,
                                               float* __restrict__ y, int rows, int rowGroups,
                                               int ldy, int kBlocks, int tokens) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  constexpr int NTHREADS = WG * 128;
  constexpr int HALF = BN * 128;          // one 128-column half of a stage
  constexpr int STAGE = 2 * HALF;         // BN tokens x 256 columns
  constexpr int NACC = BN / 2;            // int32 accumulators per thread
  extern __shared__ unsigned char aph_smem_raw[];
  // The swizzle atoms must start on 1024-byte boundaries (the host asks for 1 KiB extra).
  unsigned rawAddr = aph_smem_u32(aph_smem_raw);
  unsigned char* smem = aph_smem_raw + (((rawAddr + 1023u) & ~1023u) - rawAddr);
  unsigned sBase = aph_smem_u32(smem);

  int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  int n0 = blockIdx.x * BN;
  // Row group pair of this warp; a block past the last group re-reads it and stores nothing.
  int pair = blockIdx.y * (WG * 8) + warp * 2;
  int g0 = min(pair, rowGroups - 2);
  size_t kPad = (size_t)kBlocks * APH_KBLOCK;
  const unsigned* w0p = W + (size_t)g0 * kBlocks * APH_TILE_WORDS + lane;
  const unsigned* w1p = w0p + (size_t)kBlocks * APH_TILE_WORDS;

  auto loadStage = [&](int stage, int kb) {
#pragma unroll
    for (int c = tid; c < BN * 16; c += NTHREADS) {
      int row = c >> 4, ch = c & 15;
      const signed char* src = q + (size_t)(n0 + row) * kPad + (size_t)kb * APH_KBLOCK + ch * 16;
      unsigned dst = sBase + stage * STAGE + (ch >> 3) * HALF + row * 128 + (((ch & 7) ^ (row & 7)) << 4);
      aph_cp_async16(dst, src);
    }
  };

  int acc[NACC];
#pragma unroll
  for (int i = 0; i < NACC; ++i) acc[i] = 0;

#pragma unroll
  for (int st = 0; st < STAGES - 1; ++st) {
    if (st < kBlocks) loadStage(st, st);
    aph_cp_async_commit();
  }
  unsigned A0[4], A1[4];
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    A0[i] = __ldg(w0p + 32 * i);
    A1[i] = __ldg(w1p + 32 * i);
  }

  for (int kb = 0; kb < kBlocks; ++kb) {
    aph_cp_async_wait<STAGES - 2>();
    aph_fence_proxy_async();
    __syncthreads();
    int nk = kb + STAGES - 1;
    if (nk < kBlocks) loadStage(nk % STAGES, nk);
    aph_cp_async_commit();

    unsigned a[8][4];
#pragma unroll
    for (int s = 0; s < 8; ++s) {
      int wi = s >> 1, j = 2 * (s & 1);
      a[s][0] = aph_chunk(A0[wi], j);
      a[s][1] = aph_chunk(A1[wi], j);
      a[s][2] = aph_chunk(A0[wi], j + 1);
      a[s][3] = aph_chunk(A1[wi], j + 1);
    }
    // Next k block's weights load while the tensor cores work on this one.
    if (kb + 1 < kBlocks) {
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        A0[i] = __ldg(w0p + (size_t)(kb + 1) * APH_TILE_WORDS + 32 * i);
        A1[i] = __ldg(w1p + (size_t)(kb + 1) * APH_TILE_WORDS + 32 * i);
      }
    }
    unsigned stageAddr = sBase + (kb % STAGES) * STAGE;
    aph_wgmma_fence();
#pragma unroll
    for (int s = 0; s < 8; ++s) {
      unsigned long long desc = aph_wgmma_desc(stageAddr + (s >> 2) * HALF + (s & 3) * 32);
      if constexpr (BN == 128) {
        aph_wgmma_n128(acc, a[s], desc);
      } else {
        aph_wgmma_n256(acc, a[s], desc);
      }
    }
    aph_wgmma_commit();
    // The stage and a[] are reused next iteration: wait for this k block's MMAs.
    aph_wgmma_wait<0>();
  }
  aph_cp_async_wait<0>();

  if (pair >= rowGroups) return;
  int rowA = pair * 8 + (lane >> 2);
#pragma unroll
  for (int i = 0; i < BN / 8; ++i) {
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      int token = n0 + 8 * i + 2 * (lane & 3) + (r & 1);
      int row = rowA + 8 * (r >> 1);
      if (token < tokens && row < rows) {
        y[(size_t)token * ldy + row] = aph_dequant(acc[4 * i + r] - xsum[token], xscale[token], wscale[row]);
      }
    }
  }
#else
  // Only the sm_90a image has wgmma; the host never launches this kernel on other devices.
  __trap();
#endif
}

#define APH_WG(NAME, WG, BN, ST, MINB)                                                           \
  extern "C" __global__ void __launch_bounds__(WG * 128, MINB) NAME(                               \
      const unsigned* __restrict__ W, const signed char* __restrict__ q,                         \
      const int* __restrict__ xsum, const float* __restrict__ xscale,                            \
      const float* __restrict__ wscale, float* __restrict__ y, int rows, int rowGroups, int ldy, \
      int kBlocks, int tokens) {                                                                 \
    aph_gemm_s8_wg<WG, BN, ST>(W, q, xsum, xscale, wscale, y, rows, rowGroups, ldy, kBlocks,     \
                               tokens);                                                          \
  }
// 128 tokens x 128 rows (two warpgroups), 3 stages, two blocks per SM.
APH_WG(aph_gemm_s8_wg_128x128, 2, 128, 3, 2)
// 256 tokens x 128 rows (two warpgroups), 3 stages.
APH_WG(aph_gemm_s8_wg_256x128, 2, 256, 3, 1)
// 128 tokens x 256 rows (four warpgroups), 4 stages.
APH_WG(aph_gemm_s8_wg_128x256, 4, 128, 4, 1)

// ---------------------------------------------------------------------------------------------
// Float-activation GEMV / small GEMM: y[t][row] = wScale[row] * sum_k w[row][k] * x[t][k], with
// up to NT tokens per launch (x rows padded to kPad with zeros, ldx a multiple of 256). Each trit
// becomes the float v - 1 through one byte permute and one add, then one FFMA per token.
// Block = 8 warps on one 8-row group, warps split k. Grid: rowGroups.
// ---------------------------------------------------------------------------------------------
template <int NT, bool BF16>
__device__ __forceinline__ void aph_gemv_f(const unsigned* __restrict__ W, const void* __restrict__ x,
                                           int ldx, const float* __restrict__ wscale,
                                           float* __restrict__ y, int rows, int ldy, int kBlocks,
                                           int tokens) {
  __shared__ float part[8][NT][8];
  int g = blockIdx.x;
  int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, q4 = lane & 3;
  const unsigned* wt = W + (size_t)g * kBlocks * APH_TILE_WORDS + lane;
  float acc[NT];
#pragma unroll
  for (int t = 0; t < NT; ++t) acc[t] = 0.0f;
  size_t rowOff[NT];
#pragma unroll
  for (int t = 0; t < NT; ++t) rowOff[t] = (size_t)min(t, tokens - 1) * ldx;

#pragma unroll 2
  for (int kb = warp; kb < kBlocks; kb += 8) {
    const unsigned* wp = wt + (size_t)kb * APH_TILE_WORDS;
    unsigned w[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) w[i] = __ldg(wp + 32 * i);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        unsigned c = aph_chunk(w[i], j);
        float d0 = aph_trit_f(c, 0), d1 = aph_trit_f(c, 1), d2 = aph_trit_f(c, 2),
              d3 = aph_trit_f(c, 3);
        int k0 = kb * APH_KBLOCK + 32 * (2 * i + (j >> 1)) + 16 * (j & 1) + 4 * q4;
#pragma unroll
        for (int t = 0; t < NT; ++t) {
          float x0, x1, x2, x3;
          if (BF16) {
            uint2 raw = __ldg(reinterpret_cast<const uint2*>(
                reinterpret_cast<const unsigned short*>(x) + rowOff[t] + k0));
            x0 = __int_as_float(raw.x << 16);
            x1 = __int_as_float(raw.x & 0xffff0000u);
            x2 = __int_as_float(raw.y << 16);
            x3 = __int_as_float(raw.y & 0xffff0000u);
          } else {
            float4 v =
                __ldg(reinterpret_cast<const float4*>(reinterpret_cast<const float*>(x) + rowOff[t] + k0));
            x0 = v.x;
            x1 = v.y;
            x2 = v.z;
            x3 = v.w;
          }
          acc[t] = fmaf(d0, x0, acc[t]);
          acc[t] = fmaf(d1, x1, acc[t]);
          acc[t] = fmaf(d2, x2, acc[t]);
          acc[t] = fmaf(d3, x3, acc[t]);
        }
      }
    }
  }
#pragma unroll
  for (int t = 0; t < NT; ++t) {
    float v = acc[t];
    v += __shfl_xor_sync(0xffffffffu, v, 1);
    v += __shfl_xor_sync(0xffffffffu, v, 2);
    if (q4 == 0) part[warp][t][lane >> 2] = v;
  }
  __syncthreads();
  if (threadIdx.x < 8 * NT) {
    int t = threadIdx.x >> 3, r = threadIdx.x & 7;
    float sum = 0.0f;
#pragma unroll
    for (int i = 0; i < 8; ++i) sum += part[i][t][r];
    int row = 8 * g + r;
    if (row < rows && t < tokens) y[(size_t)t * ldy + row] = wscale[row] * sum;
  }
}

#define APH_GEMV_F(NT)                                                                           \
  extern "C" __global__ void __launch_bounds__(256) aph_gemv_f32_##NT(                          \
      const unsigned* __restrict__ W, const float* __restrict__ x, int ldx,                      \
      const float* __restrict__ wscale, float* __restrict__ y, int rows, int ldy, int kBlocks,   \
      int tokens) {                                                                              \
    aph_gemv_f<NT, false>(W, x, ldx, wscale, y, rows, ldy, kBlocks, tokens);                     \
  }                                                                                              \
  extern "C" __global__ void __launch_bounds__(256) aph_gemv_bf16_##NT(                         \
      const unsigned* __restrict__ W, const unsigned short* __restrict__ x, int ldx,             \
      const float* __restrict__ wscale, float* __restrict__ y, int rows, int ldy, int kBlocks,   \
      int tokens) {                                                                              \
    aph_gemv_f<NT, true>(W, x, ldx, wscale, y, rows, ldy, kBlocks, tokens);                      \
  }
APH_GEMV_F(1)
APH_GEMV_F(2)
APH_GEMV_F(4)
APH_GEMV_F(8)

// ---------------------------------------------------------------------------------------------
// VSA sketch gradient compression (uses aph_warp_sum above).
// ---------------------------------------------------------------------------------------------
#include "vsa_sketch.cuh"
#include "decoder_ops.cuh"
// Count-sketch gradient compression (uses aph_mix64 of vsa_sketch.cuh).
#include "count_sketch.cuh"
#include "gemv_wide.cuh"
