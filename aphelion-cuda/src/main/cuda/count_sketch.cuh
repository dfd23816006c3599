// Count-sketch gradient encoding (docs/formats.md, "Encoding 3: count sketch"), bit for bit equal
// to aphelion-tritter's CountSketch: row rho, block j takes its rotation and key words from
// z = mix64(rowSeed_rho + j) as the VSA sketch does; a bucket adds its blocks in ascending order
// with one explicitly rounded add each; the int8 codes are rint(h * (127 / amax)) clamped to
// [-127, 127]. Needs aph_mix64 and APH_VSA_GAMMA from vsa_sketch.cuh.
#pragma once

// One thread per (row, block, word): keys[(rho * blocks + j) * words + w] = mix64(z + (w + 2) GAMMA),
// rot[rho * blocks + j] = ((mix64(z + GAMMA) >>> 32) * c) >>> 32.
extern "C" __global__ void aph_cs_keys(const unsigned long long* __restrict__ rowSeeds, int rows, int c,
                                       int blocks, int words, unsigned long long* __restrict__ keys,
                                       int* __restrict__ rot) {
  long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  long long perRow = (long long)blocks * words;
  if (idx >= (long long)rows * perRow) return;
  int rho = (int)(idx / perRow);
  long long rest = idx - rho * perRow;
  int j = (int)(rest / words), w = (int)(rest - (long long)j * words);
  unsigned long long z = aph_mix64(rowSeeds[rho] + (unsigned long long)j);
  keys[idx] = aph_mix64(z + (unsigned long long)(w + 2) * APH_VSA_GAMMA);
  if (w == 0) {
    rot[(size_t)rho * blocks + j] = (int)(((aph_mix64(z + APH_VSA_GAMMA) >> 32) * (unsigned long long)c) >> 32);
  }
}

// h[rho c + u] = sum over blocks j ascending of key(t) ? -e[j c + t] : e[j c + t], t = (u - r_j) mod c,
// t < len_j; then amaxBits[rho] = max of the magnitudes' bits (non-negative floats order as ints).
// One thread per (row, bucket).
extern "C" __global__ void aph_cs_bind(const float* __restrict__ e, int n, int rows, int c, int blocks,
                                       int words, const unsigned long long* __restrict__ keys,
                                       const int* __restrict__ rot, float* __restrict__ h,
                                       unsigned int* __restrict__ amaxBits) {
  long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)rows * c) return;
  int rho = (int)(idx / c), u = (int)(idx - (long long)rho * c);
  const int* rr = rot + (size_t)rho * blocks;
  const unsigned long long* kk = keys + (size_t)rho * blocks * words;
  float acc = 0.0f;
  for (int j = 0; j < blocks; ++j) {
    int t = u - rr[j];
    if (t < 0) t += c;
    int len = min(c, n - j * c);
    if (t < len) {
      float v = e[(size_t)j * c + t];
      bool neg = ((kk[(size_t)j * words + (t >> 6)] >> (t & 63)) & 1ull) != 0;
      acc = __fadd_rn(acc, neg ? -v : v);
    }
  }
  h[idx] = acc;
  atomicMax(&amaxBits[rho], __float_as_uint(fabsf(acc)));
}

// scales[rho] = amax / 127; code = clamp(rint(h * (127 / amax)), -127, 127) (0 when amax is 0).
extern "C" __global__ void aph_cs_quantize(const float* __restrict__ h, int rows, int c,
                                           const unsigned int* __restrict__ amaxBits,
                                           float* __restrict__ scales, signed char* __restrict__ codes) {
  long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)rows * c) return;
  int rho = (int)(idx / c), u = (int)(idx - (long long)rho * c);
  float amax = __uint_as_float(amaxBits[rho]);
  float inv = amax == 0.0f ? 0.0f : __fdiv_rn(127.0f, amax);
  if (u == 0) scales[rho] = __fdiv_rn(amax, 127.0f);
  float q = rintf(__fmul_rn(h[idx], inv));
  q = fminf(127.0f, fmaxf(-127.0f, q));
  codes[idx] = (signed char)(int)q;
}

// Round 2 on the device residual: vals[j] = e[idx[j]].
extern "C" __global__ void aph_cs_gather(const float* __restrict__ e, const int* __restrict__ idx, int k,
                                         float* __restrict__ vals) {
  int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j < k) vals[j] = e[idx[j]];
}

// e[idx[j]] = vals[j] (the host computed e - code * scale in the reference's order).
extern "C" __global__ void aph_cs_scatter(float* __restrict__ e, const int* __restrict__ idx, int k,
                                          const float* __restrict__ vals) {
  int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j < k) e[idx[j]] = vals[j];
}
