#!/usr/bin/env bash
# Third device call of 2026-12-06: the attention kernel with all loads of a loop in flight.
set -u
out=${OUT:-/tmp/out}; mkdir -p "$out"
t() { echo "$(date -u +%H:%M:%S) $*" | tee -a "$out/times.log"; }
t start test
timeout 75 bash .device/run.sh test --select-class dev.aphelion.cuda.compute.CudaComputeOpsTest \
  --select-class dev.aphelion.cuda.compute.DecoderOnGpuTest --select-class dev.aphelion.cuda.ternary.KernelSourceHashTest > "$out/test.log" 2>&1; t test rc $?
here=$(pwd)/.device
cp="$(ls -d "$here"/classes/* | tr '\n' ':')$(ls "$here"/lib/*.jar | tr '\n' ':')"
opts=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC)
t start decode
timeout 75 /tmp/jre/bin/java "${opts[@]}" -cp "$cp" dev.aphelion.benchmarks.cuda.GpuDecodeBenchmark --backend cuda --context 512 \
  --tokens 128 > "$out/decode.log" 2>&1; t decode rc $?
t start torch
timeout 45 python3 benchmarks/scripts/torch_decode_baseline.py --context 512 --tokens 128 > "$out/torch.log" 2>&1; t torch rc $?
