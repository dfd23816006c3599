// Decoder operations of dev.aphelion.cuda.compute.CudaComputeOps (the ComputeOps of the cuda
// backend): embedding, RMSNorm, RoPE, KV store and attention, elementwise ops and the f32/int8
// matrix-vector products of the output head and dense layers. Included by aphelion_kernels.cu.
//
// Exactness against aphelion-tritter's CPU ops: elementwise steps use _rn intrinsics (no FMA
// contraction), so embedding, RoPE, add, the squared-ReLU gate and copies are bit for bit the
// Java arithmetic. Reductions (RMSNorm's sum of squares, dot products, softmax) sum in another
// order and use expf; their bound is stated in CudaComputeOps.

#define APH_ATT_CHUNK 64

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
__device__ __forceinline__ float aph_block_sumf(float v, float* sh) {
  v = aph_warp_sumf(v);
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();
  if (lane == 0) sh[warp] = v;
  __syncthreads();
  if (warp == 0) {
    int nw = blockDim.x >> 5;
    float t = lane < nw ? sh[lane] : 0.f;
    t = aph_warp_sumf(t);
    if (lane == 0) sh[0] = t;
  }
  __syncthreads();
  return sh[0];
}

__device__ __forceinline__ float aph_block_maxf(float v, float* sh) {
  v = aph_warp_max(v);
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();
  if (lane == 0) sh[warp] = v;
  __syncthreads();
  if (warp == 0) {
    int nw = blockDim.x >> 5;
    float t = lane < nw ? sh[lane] : -INFINITY;
    t = aph_warp_max(t);
    if (lane == 0) sh[0] = t;
  }
  __syncthreads();
  return sh[0];
}

// out[r] = table[tokens[r]] (int8 rows times their scale); grid = rows.
extern "C" __global__ void aph_dec_embed_s8(const signed char* __restrict__ q, const float* __restrict__ scales,
                                            const int* __restrict__ tokens, int vocab, int dim, float* __restrict__ out) {
  int t = tokens[blockIdx.x];
  if (t < 0 || t >= vocab) return;
  float s = scales[t];
  const signed char* row = q + (long long)t * dim;
  float* o = out + (long long)blockIdx.x * dim;
  for (int i = threadIdx.x; i < dim; i += blockDim.x) o[i] = __fmul_rn((float)row[i], s);
}

extern "C" __global__ void aph_dec_embed_f32(const float* __restrict__ w, const int* __restrict__ tokens, int vocab,
                                             int dim, float* __restrict__ out) {
  int t = tokens[blockIdx.x];
  if (t < 0 || t >= vocab) return;
  const float* row = w + (long long)t * dim;
  float* o = out + (long long)blockIdx.x * dim;
  for (int i = threadIdx.x; i < dim; i += blockDim.x) o[i] = row[i];
}

// y = x / sqrt(mean(x^2) + eps) * g, one block per row; y may be x. A decode step runs 121 of
// these on one row each, so the kernel is bound by load latency, not bandwidth: every thread issues
// all its loads at once (held in registers up to APH_NORM_REGS per thread, 8192 columns at 1024
// threads) instead of one dependent round per element, and x is read once.
#define APH_NORM_REGS 8
extern "C" __global__ void aph_dec_rmsnorm(const float* x, const float* __restrict__ g, float eps, int n, float* y) {
  __shared__ float sh[32];
  const float* xr = x + (long long)blockIdx.x * n;
  float* yr = y + (long long)blockIdx.x * n;
  const int held = APH_NORM_REGS * blockDim.x;
  float v[APH_NORM_REGS];
#pragma unroll
  for (int k = 0; k < APH_NORM_REGS; k++) {
    int i = threadIdx.x + k * blockDim.x;
    v[k] = i < n ? xr[i] : 0.f;
  }
  float ss = 0.f;
#pragma unroll
  for (int k = 0; k < APH_NORM_REGS; k++) ss = fmaf(v[k], v[k], ss);
  for (int i = threadIdx.x + held; i < n; i += blockDim.x) {
    float t = xr[i];
    ss = fmaf(t, t, ss);
  }
  ss = aph_block_sumf(ss, sh);
  // Java: (float) (1.0 / Math.sqrt(ss / n + eps)) with the quotient and sum in float.
  float inv = (float)(1.0 / sqrt((double)__fadd_rn(__fdiv_rn(ss, (float)n), eps)));
#pragma unroll
  for (int k = 0; k < APH_NORM_REGS; k++) {
    int i = threadIdx.x + k * blockDim.x;
    if (i < n) yr[i] = __fmul_rn(__fmul_rn(v[k], inv), g[i]);
  }
  for (int i = threadIdx.x + held; i < n; i += blockDim.x) yr[i] = __fmul_rn(__fmul_rn(xr[i], inv), g[i]);
}

// Rotate-half RoPE in place; grid = rows. Tables are [positions][headDim / 2].
extern "C" __global__ void aph_dec_rope(float* x, int heads, int hd, const float* __restrict__ cosT,
                                        const float* __restrict__ sinT, const int* __restrict__ pos, int positions) {
  int half = hd >> 1;
  int p = pos[blockIdx.x];
  if (p < 0 || p >= positions) return;
  float* xr = x + (long long)blockIdx.x * heads * hd;
  for (int j = threadIdx.x; j < heads * half; j += blockDim.x) {
    int h = j / half, i = j - h * half;
    float c = cosT[(long long)p * half + i], s = sinT[(long long)p * half + i];
    float* b = xr + h * hd;
    float x1 = b[i], x2 = b[i + half];
    b[i] = __fsub_rn(__fmul_rn(x1, c), __fmul_rn(x2, s));
    b[i + half] = __fadd_rn(__fmul_rn(x2, c), __fmul_rn(x1, s));
  }
}

// Stores each row's keys and values at (seq, pos) of one layer's [seq][kvHead][capacity][hd] cache.
extern "C" __global__ void aph_dec_kv_store(const float* __restrict__ k, const float* __restrict__ v, int kvHeads, int hd,
                                            const int* __restrict__ seqs, const int* __restrict__ pos, int sequences,
                                            int cap, float* __restrict__ kc, float* __restrict__ vc) {
  int r = blockIdx.x;
  int s = seqs[r], p = pos[r];
  if (s < 0 || s >= sequences || p < 0 || p >= cap) return;
  int kvs = kvHeads * hd;
  for (int j = threadIdx.x; j < kvs; j += blockDim.x) {
    int h = j / hd, d = j - h * hd;
    long long dst = (((long long)s * kvHeads + h) * cap + p) * hd + d;
    kc[dst] = k[(long long)r * kvs + j];
    vc[dst] = v[(long long)r * kvs + j];
  }
}

// aph_dec_rope on the query and key heads plus aph_dec_kv_store in one kernel (grid = rows):
// the keys are rotated in place and stored rotated, with the values, at (seq, pos).
extern "C" __global__ void aph_dec_rope_kv_store(float* q, float* k, const float* __restrict__ v, int heads, int kvHeads,
                                                 int hd, const float* __restrict__ cosT, const float* __restrict__ sinT,
                                                 const int* __restrict__ pos, int positions, const int* __restrict__ seqs,
                                                 int sequences, int cap, float* __restrict__ kc, float* __restrict__ vc) {
  int half = hd >> 1;
  int r = blockIdx.x;
  int p = pos[r], s = seqs[r];
  if (p < 0 || p >= positions) return;
  bool store = s >= 0 && s < sequences && p < cap;
  float* qr = q + (long long)r * heads * hd;
  for (int j = threadIdx.x; j < heads * half; j += blockDim.x) {
    int h = j / half, i = j - h * half;
    float c = cosT[(long long)p * half + i], sn = sinT[(long long)p * half + i];
    float* b = qr + h * hd;
    float x1 = b[i], x2 = b[i + half];
    b[i] = __fsub_rn(__fmul_rn(x1, c), __fmul_rn(x2, sn));
    b[i + half] = __fadd_rn(__fmul_rn(x2, c), __fmul_rn(x1, sn));
  }
  int kvs = kvHeads * hd;
  float* kr = k + (long long)r * kvs;
  for (int j = threadIdx.x; j < kvHeads * half; j += blockDim.x) {
    int h = j / half, i = j - h * half;
    float c = cosT[(long long)p * half + i], sn = sinT[(long long)p * half + i];
    float* b = kr + h * hd;
    float x1 = b[i], x2 = b[i + half];
    float r1 = __fsub_rn(__fmul_rn(x1, c), __fmul_rn(x2, sn));
    float r2 = __fadd_rn(__fmul_rn(x2, c), __fmul_rn(x1, sn));
    b[i] = r1;
    b[i + half] = r2;
    if (store) {
      long long dst = (((long long)s * kvHeads + h) * cap + p) * hd;
      kc[dst + i] = r1;
      kc[dst + i + half] = r2;
    }
  }
  if (!store) return;
  for (int j = threadIdx.x; j < kvs; j += blockDim.x) {
    int h = j / hd, d = j - h * hd;
    vc[(((long long)s * kvHeads + h) * cap + p) * hd + d] = v[(long long)r * kvs + j];
  }
}

// Attention over the KV cache: grid (heads, splits, rows), 128 threads (4 warps). Split c covers
// positions [64c, 64c + 64) of the row's visible range [0, min(pos + 1, cap)): it computes its
// max score m, sum l = sum exp(s - m) and o = sum exp(s - m) v and writes them, hd + 2 floats, to
// part[(row * heads + head) * splits + c]. The last split of a (row, head) to finish (a counter
// per pair, reset by that block) combines them into out, so one kernel does the whole attention.
// Decode is latency-bound (a few hundred small blocks), so each loop issues all its loads at
// once: warp w owns positions w, w + 4, ..., w + 60, and with hd % 4 == 0 a lane reads one float4
// of each of its 16 K (then V) rows per 128 dimensions, 16 loads in flight; the combine reads the
// splits' (m, l) in parallel.
// Dynamic shared memory: 4 * (5 * hd + splits) bytes.
#define APH_ATT_PER_WARP (APH_ATT_CHUNK / 4)
extern "C" __global__ void __launch_bounds__(128) aph_dec_attend(
    const float* __restrict__ q, const float* __restrict__ kc, const float* __restrict__ vc, const int* __restrict__ seqs,
    const int* __restrict__ pos, int heads, int kvHeads, int hd, int sequences, int cap, float scale, int splits,
    float* __restrict__ part, unsigned* __restrict__ counters, float* __restrict__ out) {
  extern __shared__ float4 aph_att_sh[];
  __shared__ float sc[APH_ATT_CHUNK];
  __shared__ float red[32];
  __shared__ int lastBlock;
  float* qs = reinterpret_cast<float*>(aph_att_sh);  // hd
  float* pw = qs + hd;                                // [4][hd]: per-warp sums of the values
  float* wc = pw + 4 * hd;                            // [splits]: the combine's weights
  int h = blockIdx.x, c = blockIdx.y, r = blockIdx.z;
  int s = seqs[r], p = pos[r];
  if (s < 0 || s >= sequences || p < 0 || p >= cap) return;
  int n = min(p + 1, cap);
  int t0 = c * APH_ATT_CHUNK;
  if (t0 >= n) return;
  int used = (n + APH_ATT_CHUNK - 1) / APH_ATT_CHUNK;
  int cnt = min(APH_ATT_CHUNK, n - t0);
  int kvh = h / (heads / kvHeads);
  int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const float* qr = q + ((long long)r * heads + h) * hd;
  const float* K = kc + (((long long)s * kvHeads + kvh) * cap + t0) * hd;
  const float* V = vc + (((long long)s * kvHeads + kvh) * cap + t0) * hd;
  bool vec = (hd & 3) == 0;
  int hd4 = hd >> 2;
  for (int d = tid; d < hd; d += 128) qs[d] = qr[d];
  __syncthreads();
  // Scores of the warp's positions.
  float a[APH_ATT_PER_WARP];
#pragma unroll
  for (int i = 0; i < APH_ATT_PER_WARP; i++) a[i] = 0.f;
  if (vec) {
    const float4* q4 = reinterpret_cast<const float4*>(qs);
    const float4* K4 = reinterpret_cast<const float4*>(K);
    for (int d4 = lane; d4 < hd4; d4 += 32) {
      float4 qv = q4[d4];
#pragma unroll
      for (int i = 0; i < APH_ATT_PER_WARP; i++) {
        int t = warp + 4 * i;
        if (t < cnt) {
          float4 kv = __ldg(K4 + (long long)t * hd4 + d4);
          a[i] = fmaf(qv.x, kv.x, a[i]);
          a[i] = fmaf(qv.y, kv.y, a[i]);
          a[i] = fmaf(qv.z, kv.z, a[i]);
          a[i] = fmaf(qv.w, kv.w, a[i]);
        }
      }
    }
  } else {
    for (int d = lane; d < hd; d += 32) {
      float qd = qs[d];
#pragma unroll
      for (int i = 0; i < APH_ATT_PER_WARP; i++) {
        int t = warp + 4 * i;
        if (t < cnt) a[i] = fmaf(qd, __ldg(K + (long long)t * hd + d), a[i]);
      }
    }
  }
#pragma unroll
  for (int i = 0; i < APH_ATT_PER_WARP; i++) a[i] = aph_warp_sumf(a[i]);
  if (lane == 0) {
#pragma unroll
    for (int i = 0; i < APH_ATT_PER_WARP; i++) {
      int t = warp + 4 * i;
      if (t < cnt) sc[t] = __fmul_rn(a[i], scale);
    }
  }
  __syncthreads();
  float m = -INFINITY;
  for (int t = tid; t < cnt; t += 128) m = fmaxf(m, sc[t]);
  m = aph_block_maxf(m, red);
  float l = 0.f;
  for (int t = tid; t < cnt; t += 128) {
    float e = expf(sc[t] - m);
    sc[t] = e;
    l += e;
  }
  l = aph_block_sumf(l, red);  // also orders the sc writes before the reads below
  // Values: warp w sums its positions for each of its lane's dimensions.
  if (vec) {
    const float4* V4 = reinterpret_cast<const float4*>(V);
    float4* pw4 = reinterpret_cast<float4*>(pw);
    for (int d4 = lane; d4 < hd4; d4 += 32) {
      float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
      for (int i = 0; i < APH_ATT_PER_WARP; i++) {
        int t = warp + 4 * i;
        if (t < cnt) {
          float e = sc[t];
          float4 v = __ldg(V4 + (long long)t * hd4 + d4);
          acc.x = fmaf(e, v.x, acc.x);
          acc.y = fmaf(e, v.y, acc.y);
          acc.z = fmaf(e, v.z, acc.z);
          acc.w = fmaf(e, v.w, acc.w);
        }
      }
      pw4[warp * hd4 + d4] = acc;
    }
  } else {
    for (int d = lane; d < hd; d += 32) {
      float acc = 0.f;
#pragma unroll
      for (int i = 0; i < APH_ATT_PER_WARP; i++) {
        int t = warp + 4 * i;
        if (t < cnt) acc = fmaf(sc[t], __ldg(V + (long long)t * hd + d), acc);
      }
      pw[warp * hd + d] = acc;
    }
  }
  __syncthreads();
  float* mine = part + (((long long)r * heads + h) * splits + c) * (hd + 2);
  for (int d = tid; d < hd; d += 128) {
    mine[d] = __fadd_rn(__fadd_rn(pw[d], pw[hd + d]), __fadd_rn(pw[2 * hd + d], pw[3 * hd + d]));
  }
  if (tid == 0) {
    mine[hd] = m;
    mine[hd + 1] = l;
  }
  // Publish the split, then count it; the block that counts last combines.
  __threadfence();
  __syncthreads();
  unsigned* counter = counters + (long long)r * heads + h;
  if (tid == 0) lastBlock = atomicAdd(counter, 1u) == (unsigned)(used - 1);
  __syncthreads();
  if (!lastBlock) return;
  __threadfence();
  const float* pr = part + ((long long)r * heads + h) * splits * (hd + 2);
  float M = -INFINITY;
  for (int i = tid; i < used; i += 128) {
    float mi = __ldcg(pr + (long long)i * (hd + 2) + hd);
    wc[i] = mi;
    M = fmaxf(M, mi);
  }
  M = aph_block_maxf(M, red);
  float L = 0.f;
  for (int i = tid; i < used; i += 128) {
    float e = expf(wc[i] - M);
    wc[i] = e;
    L = fmaf(__ldcg(pr + (long long)i * (hd + 2) + hd + 1), e, L);
  }
  L = aph_block_sumf(L, red);  // also orders the wc writes before the reads below
  float inv = __fdiv_rn(1.f, L);
  float* o = out + ((long long)r * heads + h) * hd;
  for (int d = tid; d < hd; d += 128) {
    float acc = 0.f;
#pragma unroll 8
    for (int i = 0; i < used; i++) acc = fmaf(__ldcg(pr + (long long)i * (hd + 2) + d), wc[i], acc);
    o[d] = __fmul_rn(acc, inv);
  }
  if (tid == 0) *counter = 0u;
}

extern "C" __global__ void aph_dec_add(float* __restrict__ x, const float* __restrict__ y, long long n) {
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = __fadd_rn(x[i], y[i]);
}

// y[r][i] += b[i]
extern "C" __global__ void aph_dec_add_bias(float* __restrict__ y, const float* __restrict__ b, int cols, long long n) {
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = __fadd_rn(y[i], b[i % cols]);
}

// gate = act(gate) * up; act 0 = squared ReLU, 1 = SiLU.
extern "C" __global__ void aph_dec_gated(float* __restrict__ g, const float* __restrict__ u, long long n, int act) {
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  float x = g[i];
  if (act == 0) {
    float a = fmaxf(x, 0.f);
    g[i] = __fmul_rn(__fmul_rn(a, a), u[i]);
  } else {
    g[i] = __fmul_rn(__fdiv_rn(x, __fadd_rn(1.f, expf(-x))), u[i]);
  }
}

extern "C" __global__ void aph_dec_copy(const float* __restrict__ src, float* __restrict__ dst, long long n) {
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) dst[i] = src[i];
}

// y[r][o] = scale[o] * sum_i w[o][i] x[r][i]: one warp per output row (8 per block), int8 rows.
extern "C" __global__ void __launch_bounds__(256) aph_dec_matvec_s8(
    const signed char* __restrict__ w, const float* __restrict__ scales, const float* __restrict__ x, int dim, int outs,
    int rows, float* __restrict__ y) {
  int o = blockIdx.x * 8 + (threadIdx.x >> 5);
  int lane = threadIdx.x & 31;
  if (o >= outs) return;
  const signed char* wr = w + (long long)o * dim;
  bool vec = (dim & 15) == 0;
  for (int r = 0; r < rows; r++) {
    const float* xr = x + (long long)r * dim;
    float a = 0.f;
    if (vec) {
      // unrolled so that the weight loads of several iterations are in flight at once (the sum's order is unchanged)
#pragma unroll 4
      for (int i = lane * 16; i < dim; i += 512) {
        int4 p = __ldg(reinterpret_cast<const int4*>(wr + i));
        const float4* xv = reinterpret_cast<const float4*>(xr + i);
        int words[4] = {p.x, p.y, p.z, p.w};
#pragma unroll
        for (int k = 0; k < 4; k++) {
          float4 f = xv[k];
          int wd = words[k];
          a = fmaf((float)(signed char)(wd & 0xff), f.x, a);
          a = fmaf((float)(signed char)((wd >> 8) & 0xff), f.y, a);
          a = fmaf((float)(signed char)((wd >> 16) & 0xff), f.z, a);
          a = fmaf((float)(signed char)((wd >> 24) & 0xff), f.w, a);
        }
      }
    } else {
      for (int i = lane; i < dim; i += 32) a = fmaf((float)wr[i], xr[i], a);
    }
    a = aph_warp_sumf(a);
    if (lane == 0) y[(long long)r * outs + o] = __fmul_rn(a, scales[o]);
  }
}

// y[r][o] = sum_i w[o][i] x[r][i] (+ b[o]): one warp per output row, f32 weights.
extern "C" __global__ void __launch_bounds__(256) aph_dec_matvec_f32(
    const float* __restrict__ w, const float* __restrict__ bias, const float* __restrict__ x, int dim, int outs, int rows,
    float* __restrict__ y) {
  int o = blockIdx.x * 8 + (threadIdx.x >> 5);
  int lane = threadIdx.x & 31;
  if (o >= outs) return;
  const float* wr = w + (long long)o * dim;
  bool vec = (dim & 3) == 0;
  for (int r = 0; r < rows; r++) {
    const float* xr = x + (long long)r * dim;
    float a = 0.f;
    if (vec) {
      for (int i = lane * 4; i < dim; i += 128) {
        float4 wv = *reinterpret_cast<const float4*>(wr + i);
        float4 xv = *reinterpret_cast<const float4*>(xr + i);
        a = fmaf(wv.x, xv.x, a);
        a = fmaf(wv.y, xv.y, a);
        a = fmaf(wv.z, xv.z, a);
        a = fmaf(wv.w, xv.w, a);
      }
    } else {
      for (int i = lane; i < dim; i += 32) a = fmaf(wr[i], xr[i], a);
    }
    a = aph_warp_sumf(a);
    if (lane == 0) y[(long long)r * outs + o] = bias != nullptr ? __fadd_rn(a, bias[o]) : a;
  }
}
