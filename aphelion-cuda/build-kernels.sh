#!/usr/bin/env bash
# Regenerates the committed kernel image of aphelion-cuda from src/main/cuda:
#   src/main/resources/dev/aphelion/cuda/aphelion_kernels.fatbin  (SASS sm_80 + sm_90a, PTX compute_80)
#   src/main/resources/dev/aphelion/cuda/aphelion_kernels.sha256  (hash of the sources, see below)
# The Maven build never runs nvcc; KernelSourceHashTest fails when the sources (or this script)
# changed without running it again. Needs nvcc 13.0 or newer on the PATH (or NVCC=/path/to/nvcc).
#
# Source hash: SHA-256 over, for each file of src/main/cuda sorted by name and then this script,
# the file name, a NUL byte, the file's bytes and a NUL byte.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
nvcc=${NVCC:-nvcc}
out=src/main/resources/dev/aphelion/cuda
mkdir -p "$out"
"$nvcc" --version | tail -n 2
"$nvcc" -fatbin -std=c++17 -O3 -Xptxas -v \
  -gencode arch=compute_80,code=sm_80 \
  -gencode arch=compute_90a,code=sm_90a \
  -gencode arch=compute_80,code=compute_80 \
  -o "$out/aphelion_kernels.fatbin" src/main/cuda/aphelion_kernels.cu 2> build-kernels.log || { cat build-kernels.log >&2; exit 1; }
grep -E 'error|warning' build-kernels.log >&2 || true
hash_sources() {
  local f
  for f in $(cd src/main/cuda && LC_ALL=C ls); do
    printf '%s\0' "$f"; cat "src/main/cuda/$f"; printf '\0'
  done
  printf '%s\0' build-kernels.sh; cat build-kernels.sh; printf '\0'
}
hash_sources | sha256sum | cut -d' ' -f1 > "$out/aphelion_kernels.sha256"
echo "wrote $out/aphelion_kernels.fatbin ($(stat -c %s "$out/aphelion_kernels.fatbin") bytes), source hash $(cat "$out/aphelion_kernels.sha256")"
