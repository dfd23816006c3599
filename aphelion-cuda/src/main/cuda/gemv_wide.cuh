// W1.58A8 GEMV with 16-byte weight loads, included by aphelion_kernels.cu (after aph_q1).
//
// A tile's 128 words read as 32 uint4: thread p of a warp gets words 4p..4p+3, which are word
// w = p >> 3 of lanes 4 (p & 7) + i, i = 0..3: row r = p & 7, all four q, so 64 consecutive k
// (64 w .. 64 w + 63 of the block). Its activations, in the lane layout, are the four 16-byte
// vectors at 64 i + 16 w, component j pairing with chunk j. One load instruction per tile instead
// of four, and the int8 token is read from shared memory.
//
// Two kernels:
//   * aph_gemv_s8_wide: the int8 token (from the quantizer) staged in shared memory; grid-stride
//     over 8-row groups, the next group's weights loaded before this group's reduction.
//   * aph_gemv_s8_cluster (sm_90+, clusters of 8 blocks): aph_gemv_s8_fused's contract (optional
//     RMSNorm, up to three matrices, bias, residual, kept int8 row) with the float token
//     normalized and quantized once per cluster instead of once per block: each block of a cluster
//     takes one eighth of it, and the partial sums of squares, maxima, int8 slices and their sums
//     are pushed into every block's shared memory through distributed shared memory. Same
//     quantizer arithmetic as aph_quantize_act1, so the same int8 values, sum, scale and output
//     bits as quantize + aph_gemv_s8 (with a gain: the sum of squares in the cluster's order).
#pragma once
#include <cooperative_groups.h>

#define APH_WIDE_UNROLL 8
// Only sm_90 and newer have clusters; the sm_80 image keeps an empty body under the same name.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
#define APH_CLUSTER_OF_8
#else
#define APH_CLUSTER_OF_8 __cluster_dims__(8, 1, 1)
#endif

// Up to three matrices of one width whose 8-row groups are numbered one after the other, and
// what the epilogue does with a row: v = dequant (+ bias); y = v; residual += v.
struct AphWideOut {
  const unsigned* W[3];
  const float* s[3];
  const float* b[3];
  float* y[3];
  int rows[3];
  int ldy[3];
  float* res;
  int ldr;
  int e1, e2, total;
};

__device__ __forceinline__ void aph_wide_init(AphWideOut& o) {
  int g0 = (o.rows[0] + 7) >> 3, g1 = (o.rows[1] + 7) >> 3, g2 = (o.rows[2] + 7) >> 3;
  o.e1 = g0;
  o.e2 = g0 + g1;
  o.total = g0 + g1 + g2;
}

// Constant indices only, so that the struct stays in registers (a variable index puts it on the stack).
#define APH_PICK(arr, mi) ((mi) == 0 ? (arr)[0] : (mi) == 1 ? (arr)[1] : (arr)[2])

__device__ __forceinline__ int aph_wide_matrix(const AphWideOut& o, int g) {
  return g < o.e1 ? 0 : g < o.e2 ? 1 : 2;
}

__device__ __forceinline__ int aph_wide_local(const AphWideOut& o, int g, int mi) {
  return mi == 0 ? g : mi == 1 ? g - o.e1 : g - o.e2;
}

// The weights one warp loads for one 8-row group: k blocks kb0 + warp, kb0 + warp + 8, ...
__device__ __forceinline__ void aph_wide_load(uint4 (&wr)[APH_WIDE_UNROLL], const AphWideOut& o, int g, int kBlocks,
                                              int kb0, int warp, int lane) {
  int mi = aph_wide_matrix(o, g);
  const uint4* base =
      reinterpret_cast<const uint4*>(APH_PICK(o.W, mi) + (size_t)aph_wide_local(o, g, mi) * kBlocks * APH_TILE_WORDS) + lane;
#pragma unroll
  for (int i = 0; i < APH_WIDE_UNROLL; ++i) {
    int kb = kb0 + warp + 8 * i;
    wr[i] = kb < kBlocks ? __ldg(base + (size_t)kb * (APH_TILE_WORDS / 4)) : make_uint4(0u, 0u, 0u, 0u);
  }
}

__device__ __forceinline__ int aph_wide_dot(const uint4 (&wr)[APH_WIDE_UNROLL], const int4* __restrict__ qs, int kBlocks,
                                            int kb0, int warp, int lane) {
  int a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  const int4* xt = qs + (lane >> 3);
#pragma unroll
  for (int i = 0; i < APH_WIDE_UNROLL; ++i) {
    int kb = kb0 + warp + 8 * i;
    if (kb < kBlocks) {
      const int4* xp = xt + kb * 16;
      unsigned w[4] = {wr[i].x, wr[i].y, wr[i].z, wr[i].w};
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        int4 xv = xp[4 * q];
        a0 = aph_dp4a_us(w[q] & APH_CHUNK_MASK, xv.x, a0);
        a1 = aph_dp4a_us(w[q] & (APH_CHUNK_MASK << 2), xv.y, a1);
        a2 = aph_dp4a_us(w[q] & (APH_CHUNK_MASK << 4), xv.z, a2);
        a3 = aph_dp4a_us(w[q] & (APH_CHUNK_MASK << 6), xv.w, a3);
      }
    }
  }
  return a0 + (a1 >> 2) + (a2 >> 4) + (a3 >> 6);
}

// Grid-stride over the row groups for token t, whose int8 values sit in shared memory (lane
// layout, kBlocks * 256 bytes); wr holds the block's first group's weights. Every thread of the
// block must call it.
__device__ __forceinline__ void aph_wide_rows(const AphWideOut& o, int t, int kBlocks, const int4* qs, int xs, float xscale,
                                              int (&part)[8][8], uint4 (&wr)[APH_WIDE_UNROLL]) {
  int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  for (int g = blockIdx.x; g < o.total; g += gridDim.x) {
    int acc = 0;
    for (int kb0 = 0; kb0 < kBlocks; kb0 += 8 * APH_WIDE_UNROLL) {
      acc += aph_wide_dot(wr, qs, kBlocks, kb0, warp, lane);
      int next = kb0 + 8 * APH_WIDE_UNROLL;
      if (next < kBlocks) {
        aph_wide_load(wr, o, g, kBlocks, next, warp, lane);
      } else if (g + gridDim.x < o.total) {
        aph_wide_load(wr, o, g + gridDim.x, kBlocks, 0, warp, lane);
      }
    }
    // Lanes r, r + 8, r + 16, r + 24 hold row r.
    acc += __shfl_xor_sync(0xffffffffu, acc, 8);
    acc += __shfl_xor_sync(0xffffffffu, acc, 16);
    if (lane < 8) part[warp][lane] = acc;
    __syncthreads();
    if (tid < 8) {
      int sum = 0;
#pragma unroll
      for (int i = 0; i < 8; ++i) sum += part[i][tid];
      int mi = aph_wide_matrix(o, g);
      int row = 8 * aph_wide_local(o, g, mi) + tid;
      if (row < APH_PICK(o.rows, mi)) {
        float v = aph_dequant(sum - xs, xscale, APH_PICK(o.s, mi)[row]);
        if (APH_PICK(o.b, mi) != nullptr) v = __fadd_rn(v, APH_PICK(o.b, mi)[row]);
        APH_PICK(o.y, mi)[(size_t)t * APH_PICK(o.ldy, mi) + row] = v;
        if (o.res != nullptr) o.res[(size_t)t * o.ldr + row] = __fadd_rn(o.res[(size_t)t * o.ldr + row], v);
      }
    }
    __syncthreads();
  }
}

// Grid (blocks, tokens), 256 threads, kBlocks * 256 bytes of dynamic shared memory.
extern "C" __global__ void __launch_bounds__(256, 3)
    aph_gemv_s8_wide(const unsigned* __restrict__ W, const signed char* __restrict__ q, const int* __restrict__ xsum,
                     const float* __restrict__ xscale, const float* __restrict__ wscale, float* __restrict__ y, int rows,
                     int ldy, int kBlocks) {
  extern __shared__ int4 aph_wide_q[];
  __shared__ int part[8][8];
  int t = blockIdx.y, tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  AphWideOut o = {{W, nullptr, nullptr}, {wscale, nullptr, nullptr}, {nullptr, nullptr, nullptr}, {y, nullptr, nullptr},
                  {rows, 0, 0}, {ldy, 0, 0}, nullptr, 0, 0, 0, 0};
  aph_wide_init(o);
  uint4 wr[APH_WIDE_UNROLL];
  if (blockIdx.x < (unsigned)o.total) aph_wide_load(wr, o, blockIdx.x, kBlocks, 0, warp, lane);
  const int4* src = reinterpret_cast<const int4*>(q + (size_t)t * kBlocks * APH_KBLOCK);
  for (int i = tid; i < kBlocks * 16; i += 256) aph_wide_q[i] = __ldg(src + i);
  __syncthreads();
  aph_wide_rows(o, t, kBlocks, aph_wide_q, xsum[t], xscale[t], part, wr);
}

// aph_gemv_s8_fused's parameters and results. Grid (blocks, tokens) with blocks a multiple of 8,
// 256 threads, kBlocks * 256 bytes of dynamic shared memory. x: rows of stride ldx, K and ldx
// multiples of 4, x and gain 16-byte aligned. Blocks 0..7 (cluster 0) write the kept int8 row.
extern "C" __global__ void APH_CLUSTER_OF_8 __launch_bounds__(256, 3) aph_gemv_s8_cluster(
    const float* __restrict__ x, int ldx, int K, int kBlocks,
    const unsigned* __restrict__ W0, const unsigned* __restrict__ W1, const unsigned* __restrict__ W2,
    const float* __restrict__ s0, const float* __restrict__ s1, const float* __restrict__ s2,
    const float* __restrict__ b0, const float* __restrict__ b1, const float* __restrict__ b2,
    float* __restrict__ y0, float* __restrict__ y1, float* __restrict__ y2,
    int rows0, int rows1, int rows2, int ldy0, int ldy1, int ldy2,
    float* __restrict__ res, int ldr,
    signed char* __restrict__ qOut, int* __restrict__ xsumOut, float* __restrict__ xscaleOut,
    const float* __restrict__ gain, float eps) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  namespace cg = cooperative_groups;
  extern __shared__ int4 aph_cluster_q[];
  __shared__ int part[8][8];
  __shared__ float redf[8];
  __shared__ int redi[8];
  __shared__ float clusterSs[8];
  __shared__ float clusterMax[8];
  __shared__ int clusterSum[8];
  cg::cluster_group cluster = cg::this_cluster();
  int t = blockIdx.y, tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  int rank = (int)cluster.block_rank();
  AphWideOut o = {{W0, W1, W2}, {s0, s1, s2}, {b0, b1, b2}, {y0, y1, y2}, {rows0, rows1, rows2}, {ldy0, ldy1, ldy2},
                  res, ldr, 0, 0, 0};
  aph_wide_init(o);
  uint4 wr[APH_WIDE_UNROLL];
  if (blockIdx.x < (unsigned)o.total) aph_wide_load(wr, o, blockIdx.x, kBlocks, 0, warp, lane);
  // This block's slice: k blocks [kb0, kb1), as float4 groups [v0, v1).
  int kb0 = rank * kBlocks / 8, kb1 = (rank + 1) * kBlocks / 8;
  int v0 = kb0 * 64, v1 = kb1 * 64, nVec = K >> 2;
  const float4* xr = reinterpret_cast<const float4*>(x + (size_t)t * ldx);
  const float4* gr = reinterpret_cast<const float4*>(gain);
  bool norm = gain != nullptr;
  float rinv = 1.0f;
  if (norm) {
    float ss = 0.0f;
#pragma unroll 4
    for (int g = v0 + tid; g < v1; g += 256) {
      if (g < nVec) {
        float4 v = __ldg(xr + g);
        ss = fmaf(v.x, v.x, ss);
        ss = fmaf(v.y, v.y, ss);
        ss = fmaf(v.z, v.z, ss);
        ss = fmaf(v.w, v.w, ss);
      }
    }
    ss = aph_warp_sumf(ss);
    if (lane == 0) redf[warp] = ss;
    __syncthreads();
    if (tid < 8) {
      float bs = redf[0];
#pragma unroll
      for (int i = 1; i < 8; ++i) bs += redf[i];
      *cluster.map_shared_rank(&clusterSs[rank], tid) = bs;
    }
    cluster.sync();
    ss = clusterSs[0];
#pragma unroll
    for (int i = 1; i < 8; ++i) ss += clusterSs[i];
    rinv = (float)(1.0 / sqrt((double)__fadd_rn(__fdiv_rn(ss, (float)K), eps)));
  }
  float m = 0.0f;
#pragma unroll 4
  for (int g = v0 + tid; g < v1; g += 256) {
    if (g < nVec) {
      float4 v = __ldg(xr + g);
      if (norm) v = aph_norm4(v, rinv, __ldg(gr + g));
      m = fmaxf(m, fmaxf(fmaxf(fabsf(v.x), fabsf(v.y)), fmaxf(fabsf(v.z), fabsf(v.w))));
    }
  }
  m = aph_warp_max(m);
  if (lane == 0) redf[warp] = m;
  __syncthreads();
  if (tid < 8) {
    float bm = redf[0];
#pragma unroll
    for (int i = 1; i < 8; ++i) bm = fmaxf(bm, redf[i]);
    *cluster.map_shared_rank(&clusterMax[rank], tid) = bm;
  }
  cluster.sync();
  m = clusterMax[0];
#pragma unroll
  for (int i = 1; i < 8; ++i) m = fmaxf(m, clusterMax[i]);
  float scale = m == 0.0f ? 1.0f : __fdiv_rn(m, 127.0f);
  float inv = m == 0.0f ? 1.0f : __fdiv_rn(127.0f, m);
  unsigned* remote[8];
#pragma unroll
  for (int r = 0; r < 8; ++r) remote[r] = reinterpret_cast<unsigned*>(cluster.map_shared_rank(aph_cluster_q, r));
  unsigned* qg = qOut != nullptr && blockIdx.x < 8
                     ? reinterpret_cast<unsigned*>(qOut + (size_t)t * kBlocks * APH_KBLOCK) : nullptr;
  int sum = 0;
#pragma unroll 2
  for (int g = v0 + tid; g < v1; g += 256) {
    // Padding columns quantize to 0, as in the unfused quantizers.
    float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    if (g < nVec) {
      v = __ldg(xr + g);
      if (norm) v = aph_norm4(v, rinv, __ldg(gr + g));
    }
    unsigned word = aph_q1(v.x, inv, sum) | (aph_q1(v.y, inv, sum) << 8) | (aph_q1(v.z, inv, sum) << 16) |
                    (aph_q1(v.w, inv, sum) << 24);
    int k = g << 2;
    int pos = ((k & ~255) | aph_lane_pos(k & 255)) >> 2;
#pragma unroll
    for (int r = 0; r < 8; ++r) remote[r][pos] = word;
    if (qg != nullptr) qg[pos] = word;
  }
  sum = aph_warp_sum(sum);
  if (lane == 0) redi[warp] = sum;
  __syncthreads();
  if (tid < 8) {
    int bs = 0;
#pragma unroll
    for (int i = 0; i < 8; ++i) bs += redi[i];
    *cluster.map_shared_rank(&clusterSum[rank], tid) = bs;
  }
  // After this no block touches another's shared memory, so blocks may leave in any order.
  cluster.sync();
  int xs = 0;
#pragma unroll
  for (int i = 0; i < 8; ++i) xs += clusterSum[i];
  if (qOut != nullptr && blockIdx.x == 0 && tid == 0) {
    xsumOut[t] = xs;
    xscaleOut[t] = scale;
  }
  aph_wide_rows(o, t, kBlocks, aph_cluster_q, xs, scale, part, wr);
#endif
}
