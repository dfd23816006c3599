#!/usr/bin/env bash
# Second device call of 2026-12-06 (ninth session): compute-sanitizer over the new kernels' tests,
# then the decode on the default (per-block) path once more around the PyTorch baseline.
set -u
out=${OUT:-/tmp/out}; mkdir -p "$out"
t() { echo "$(date -u +%H:%M:%S) $*" | tee -a "$out/times.log"; }
t start sanitizer
timeout 200 compute-sanitizer --tool memcheck --leak-check full bash .device/run.sh test \
  --select-class dev.aphelion.cuda.ternary.CudaTernaryKernelsTest --select-class dev.aphelion.cuda.compute.CudaComputeOpsTest \
  > "$out/sanitizer.log" 2>&1; t sanitizer rc $?
here=$(pwd)/.device
cp="$(ls -d "$here"/classes/* | tr '\n' ':')$(ls "$here"/lib/*.jar | tr '\n' ':')"
opts=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC)
t start decode
timeout 90 /tmp/jre/bin/java "${opts[@]}" -cp "$cp" dev.aphelion.benchmarks.cuda.GpuDecodeBenchmark --backend cuda --context 512 \
  --tokens 128 > "$out/decode.log" 2>&1; t decode rc $?
t start torch
timeout 60 python3 benchmarks/scripts/torch_decode_baseline.py --context 512 --tokens 128 > "$out/torch.log" 2>&1; t torch rc $?
grep -E "ERROR SUMMARY|LEAK SUMMARY|bytes leaked|tests (successful|failed|aborted)" "$out/sanitizer.log" | tail -8
tail -1 "$out/decode.log"; tail -1 "$out/torch.log"
