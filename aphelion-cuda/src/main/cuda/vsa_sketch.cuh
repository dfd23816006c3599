// VSA count-sketch gradient encoding (docs/formats.md, "VSA sketch"), bit for bit equal to
// aphelion-tritter's VsaSketch with ScalarSketchKernels. Every float or double operation is one
// explicitly rounded intrinsic in the order of the Java reference, so no FMA contraction or
// reassociation can change a bit: a bucket sums its blocks in ascending order, the lane sums walk
// each 1024-bucket chunk in the reference's 16 lanes, and the chunk totals are added by one thread.
#pragma once

#define APH_VSA_GAMMA 0x9E3779B97F4A7C15ull
#define APH_VSA_CHUNK 1024
#define APH_VSA_LANES 16

__device__ __forceinline__ unsigned long long aph_mix64(unsigned long long z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Per block j: z_j = mix64(stepSeed + j); key word w = mix64(z_j + (w + 2) * GAMMA);
// rotation = ((mix64(z_j + GAMMA) >>> 32) * m) >>> 32. One thread per (block, word).
extern "C" __global__ void aph_vsa_keys(unsigned long long stepSeed, int n, int m, int blocks,
                                        int wordsPerBlock, unsigned long long* __restrict__ keys,
                                        int* __restrict__ rot) {
  long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)blocks * wordsPerBlock) return;
  int j = (int)(idx / wordsPerBlock), w = (int)(idx - (long long)j * wordsPerBlock);
  unsigned long long z = aph_mix64(stepSeed + (unsigned long long)j);
  keys[idx] = aph_mix64(z + (unsigned long long)(w + 2) * APH_VSA_GAMMA);
  if (w == 0) {
    rot[j] = (int)(((aph_mix64(z + APH_VSA_GAMMA) >> 32) * (unsigned long long)m) >> 32);
  }
}

// e = (feedback ? e : 0) + c * g, as GradientCompressor's addScaled: one rounding per operation.
extern "C" __global__ void aph_vsa_accumulate(float* __restrict__ e, const float* __restrict__ g,
                                              float c, int n, int feedback) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  float base = feedback ? e[i] : 0.0f;
  e[i] = __fadd_rn(base, __fmul_rn(c, g[i]));
}

__device__ __forceinline__ bool aph_vsa_key(const unsigned long long* keys, int wordsPerBlock, int j, int t) {
  return ((keys[(size_t)j * wordsPerBlock + (t >> 6)] >> (t & 63)) & 1ull) != 0;
}

// h[u] = sum over blocks j in ascending order of key_j(t) ? -e[j m + t] : e[j m + t], with
// t = (u - r_j) mod m < len_j. One thread per bucket; reads of e stay coalesced.
extern "C" __global__ void aph_vsa_bind(const float* __restrict__ e, int n, int m, int blocks,
                                        int wordsPerBlock, const unsigned long long* __restrict__ keys,
                                        const int* __restrict__ rot, float* __restrict__ h) {
  int u = blockIdx.x * blockDim.x + threadIdx.x;
  if (u >= m) return;
  float acc = 0.0f;
  for (int j = 0; j < blocks; ++j) {
    int t = u - rot[j];
    if (t < 0) t += m;
    int len = min(m, n - j * m);
    if (t < len) {
      float v = e[(size_t)j * m + t];
      acc = __fadd_rn(acc, aph_vsa_key(keys, wordsPerBlock, j, t) ? -v : v);
    }
  }
  h[u] = acc;
}

// Lane sums of the reference: chunk c (1024 buckets), lane l sums |h[u]| (only |h[u]| > threshold,
// threshold = -inf when thrIndex < 0, else stats[thrIndex]) for u = 1024 c + l, + 16, ... in
// order; then one thread per chunk adds its 16 lanes in double, in lane order.
extern "C" __global__ void aph_vsa_chunk_sums(const float* __restrict__ h, int m,
                                              const float* __restrict__ fstats, int thrIndex,
                                              double* __restrict__ chunkSums) {
  int c = blockIdx.x * blockDim.x + threadIdx.x;
  int chunks = (m + APH_VSA_CHUNK - 1) / APH_VSA_CHUNK;
  if (c >= chunks) return;
  float thr = thrIndex < 0 ? -INFINITY : fstats[thrIndex];
  int u0 = c * APH_VSA_CHUNK, u1 = min(m, u0 + APH_VSA_CHUNK);
  double chunk = 0.0;
  for (int l = 0; l < APH_VSA_LANES; ++l) {
    float s = 0.0f;
    for (int u = u0 + l; u < u1; u += APH_VSA_LANES) {
      float a = fabsf(h[u]);
      s = __fadd_rn(s, a > thr ? a : 0.0f);
    }
    chunk = __dadd_rn(chunk, (double)s);
  }
  chunkSums[c] = chunk;
}

// One thread adds the chunk totals in chunk order (the reference's double total) and writes, for
// pass 0, theta = (float) (0.7 * (total / m)) to fstats[0]; for pass 1, kept = total to dstats[0].
extern "C" __global__ void aph_vsa_total(const double* __restrict__ chunkSums, int chunks, int m,
                                         int pass, float* __restrict__ fstats,
                                         double* __restrict__ dstats) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  double total = 0.0;
  for (int c = 0; c < chunks; ++c) total = __dadd_rn(total, chunkSums[c]);
  if (pass == 0) {
    fstats[0] = __double2float_rn(__dmul_rn(0.7, __ddiv_rn(total, (double)m)));
  } else {
    dstats[0] = total;
  }
}

// Trits of the message (code 01 = +1 for h > theta, 10 = -1 for h < -theta, 2 bits per bucket,
// least significant first), one thread per byte; counts[0] += non-zero trits, counts[1] += those
// with (u - lastR) mod m < lastLen (the buckets the last, possibly short, block covers).
extern "C" __global__ void aph_vsa_ternarize(const float* __restrict__ h, int m,
                                             const float* __restrict__ fstats, int lastR, int lastLen,
                                             unsigned char* __restrict__ trits,
                                             unsigned long long* __restrict__ counts) {
  int b = blockIdx.x * blockDim.x + threadIdx.x;
  int bytes = (m + 3) >> 2;
  int nnz = 0, last = 0;
  if (b < bytes) {
    float thr = fstats[0];
    unsigned out = 0;
    for (int i = 0; i < 4; ++i) {
      int u = 4 * b + i;
      if (u >= m) break;
      float v = h[u];
      unsigned code = v > thr ? 1u : (v < -thr ? 2u : 0u);
      if (code != 0u) {
        out |= code << (2 * i);
        ++nnz;
        int t = u - lastR;
        if (t < 0) t += m;
        if (t < lastLen) ++last;
      }
    }
    trits[b] = (unsigned char)out;
  }
  nnz = aph_warp_sum(nnz);
  last = aph_warp_sum(last);
  if ((threadIdx.x & 31) == 0 && (nnz | last) != 0) {
    atomicAdd(&counts[0], (unsigned long long)nnz);
    atomicAdd(&counts[1], (unsigned long long)last);
  }
}

// scale = covered == 0 ? 0 : (float) (kept / covered), covered = nnz (blocks - 1) + (lastLen == m ?
// nnz : last); written to fstats[1].
extern "C" __global__ void aph_vsa_scale(const double* __restrict__ dstats,
                                         const unsigned long long* __restrict__ counts, int blocks,
                                         int lastLen, int m, float* __restrict__ fstats) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  long long nnz = (long long)counts[0];
  long long covered = nnz * (blocks - 1) + (lastLen == m ? nnz : (long long)counts[1]);
  fstats[1] = covered == 0 ? 0.0f : __double2float_rn(__ddiv_rn(dstats[0], (double)covered));
}

// Decode = unbind: v = key_j(t) ? -d : d with d = +scale / -scale / 0 from the trit of bucket
// (t + r_j) mod m, for i = j m + t; op 0 sets out[i] = v, 1 adds, 2 subtracts (error feedback:
// the residual keeps what the receiver will not see). The scale is fstats[1] when scale is NaN.
extern "C" __global__ void aph_vsa_unbind(const unsigned char* __restrict__ trits, int n, int m,
                                          int wordsPerBlock, const unsigned long long* __restrict__ keys,
                                          const int* __restrict__ rot, float scale,
                                          const float* __restrict__ fstats, int op,
                                          float* __restrict__ out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  float sc = scale != scale ? fstats[1] : scale;
  int j = i / m, t = i - j * m;
  int u = t + rot[j];
  if (u >= m) u -= m;
  unsigned code = (trits[u >> 2] >> (2 * (u & 3))) & 3u;
  float d = code == 1u ? sc : (code == 2u ? -sc : 0.0f);
  float v = aph_vsa_key(keys, wordsPerBlock, j, t) ? -d : d;
  if (op == 0) {
    out[i] = v;
  } else if (op == 1) {
    out[i] = __fadd_rn(out[i], v);
  } else {
    out[i] = __fsub_rn(out[i], v);
  }
}
