#!/usr/bin/env bash
# One device call (2026-12-06): branch gpu7 tested and measured side by side with main's classes
# (.device/before, packed from main at 1a780e3), then the PyTorch baseline, then gpu7 again.
set -u
out=${OUT:-/tmp/out}; mkdir -p "$out"
t() { echo "$(date -u +%H:%M:%S) $*" | tee -a "$out/times.txt"; }
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv > "$out/smi.txt" 2>&1
t start suite
timeout 150 bash .device/run.sh test --select-package dev.aphelion.cuda > "$out/suite.txt" 2>&1; t suite rc $?
here=$(pwd)/.device
cp="$(ls -d "$here"/classes/* | tr '\n' ':')$(ls "$here"/lib/*.jar | tr '\n' ':')"
before="$here/before/aphelion-cuda-main:$here/before/aphelion-tritter-main:$cp"
opts=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC)
dec=(dev.aphelion.benchmarks.cuda.GpuDecodeBenchmark --backend cuda --context 512 --tokens 128)
t start decode-after
timeout 100 /tmp/jre/bin/java "${opts[@]}" -cp "$cp" "${dec[@]}" > "$out/decode-after1.txt" 2>&1; t decode-after rc $?
t start decode-before
timeout 100 /tmp/jre/bin/java "${opts[@]}" -cp "$before" "${dec[@]}" > "$out/decode-before.txt" 2>&1; t decode-before rc $?
t start torch
timeout 90 python3 benchmarks/scripts/torch_decode_baseline.py --context 512 --tokens 128 > "$out/torch.txt" 2>&1; t torch rc $?
t start decode-after2
timeout 100 /tmp/jre/bin/java "${opts[@]}" -cp "$cp" "${dec[@]}" > "$out/decode-after2.txt" 2>&1; t decode-after2 rc $?
t start sanitizer
timeout 70 compute-sanitizer --tool memcheck --leak-check full /tmp/jre/bin/java "${opts[@]}" -jar "$here"/launcher/*.jar execute \
  -cp "$cp" --select-class dev.aphelion.cuda.compute.CudaComputeOpsTest > "$out/sanitizer.txt" 2>&1; t sanitizer rc $?
t start ncu
timeout 90 ncu --graph-profiling node --cache-control none --clock-control none --metrics gpu__time_duration.sum --csv \
  /tmp/jre/bin/java "${opts[@]}" -cp "$cp" dev.aphelion.benchmarks.cuda.GpuDecodeBenchmark --backend cuda --context 512 \
  --tokens 4 --warmup 2 > "$out/ncu.csv" 2> "$out/ncu.err"; t ncu rc $?
gzip -9 "$out/ncu.csv"
