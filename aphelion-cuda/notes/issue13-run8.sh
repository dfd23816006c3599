#!/usr/bin/env bash
# First device call of 2026-12-06 (ninth session): the wide and cluster GEMVs against cuBLAS, the
# attention kernel of attention-v2.patch in the decode, and the PyTorch baseline, in one call.
# As run (05:32-05:35 UTC, H100): the cluster kernel was the default then, so decode.log is the cluster
# kernel and decode-per-block.log the per-block one; the default is now the per-block kernel.
set -u
out=${OUT:-/tmp/out}; mkdir -p "$out"
t() { echo "$(date -u +%H:%M:%S) $*" | tee -a "$out/times.log"; }
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv > "$out/smi.log" 2>&1
t start test
timeout 150 bash .device/run.sh test --select-package dev.aphelion.cuda > "$out/test.log" 2>&1; t test rc $?
here=$(pwd)/.device
cp="$(ls -d "$here"/classes/* | tr '\n' ':')$(ls "$here"/lib/*.jar | tr '\n' ':')"
opts=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC)
t start bench
timeout 90 /tmp/jre/bin/java "${opts[@]}" -cp "$cp" dev.aphelion.benchmarks.cuda.CudaMatmulBenchmark --csv "$out/bench.csv" > "$out/bench.log" 2>&1; t bench rc $?
t start decode
timeout 100 /tmp/jre/bin/java "${opts[@]}" -cp "$cp" dev.aphelion.benchmarks.cuda.GpuDecodeBenchmark --backend cuda --context 512 \
  --tokens 128 > "$out/decode.log" 2>&1; t decode rc $?
t start decode-per-block
timeout 100 /tmp/jre/bin/java "${opts[@]}" -Daphelion.cuda.clusterGemv=false -cp "$cp" dev.aphelion.benchmarks.cuda.GpuDecodeBenchmark \
  --backend cuda --context 512 --tokens 128 > "$out/decode-per-block.log" 2>&1; t decode-per-block rc $?
t start torch
timeout 60 python3 benchmarks/scripts/torch_decode_baseline.py --context 512 --tokens 128 > "$out/torch.log" 2>&1; t torch rc $?
tail -5 "$out/test.log"; grep -E "x[0-9]+ +1 |CHECK|checks" "$out/bench.log" | head -60; tail -3 "$out/decode.log"; tail -3 "$out/decode-per-block.log"; tail -2 "$out/torch.log"
