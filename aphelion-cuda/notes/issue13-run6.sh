#!/usr/bin/env bash
# Second device call of 2026-12-06: DecoderOnGpuTest with the whole-call bound at 2e-2, the decode
# of gpu7 around the PyTorch baseline once more, (trimmed: the profile did not fit the device time left).
set -u
out=${OUT:-/tmp/out}; mkdir -p "$out"
t() { echo "$(date -u +%H:%M:%S) $*" | tee -a "$out/times.txt"; }
t start test
timeout 80 bash .device/run.sh test --select-class dev.aphelion.cuda.compute.DecoderOnGpuTest > "$out/test.txt" 2>&1; t test rc $?
here=$(pwd)/.device
cp="$(ls -d "$here"/classes/* | tr '\n' ':')$(ls "$here"/lib/*.jar | tr '\n' ':')"
opts=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC)
dec=(dev.aphelion.benchmarks.cuda.GpuDecodeBenchmark --backend cuda --context 512 --tokens 128)
t start decode-after
timeout 90 /tmp/jre/bin/java "${opts[@]}" -cp "$cp" "${dec[@]}" > "$out/decode-after3.txt" 2>&1; t decode-after rc $?
t start torch
timeout 60 python3 benchmarks/scripts/torch_decode_baseline.py --context 512 --tokens 128 > "$out/torch2.log" 2>&1; t torch rc $?
cp "$out/times.txt" "$out/times.log"
