#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/gpu-check on the stand-in: pack the binary built here with its libraries, run the
# device sequence against the stand-in's libcudart/libnccl as "the device's own", and print the
# one-page summary; $OUT holds exactly the archive and the summary; it finishes in 5 minutes.
source "$(dirname "$0")/common.bash"
src=$(cd "$(dirname "$0")/../../.." && pwd)
build=$(cd "$(dirname "$bin")/.." && pwd)
"$src/scripts/gpu-check" pack "$build" "$tmp/bundle" || { echo "FAIL: pack"; exit 1; }
unset LD_LIBRARY_PATH  # gpu-check chooses the libraries
export NCD_STANDIN_GPUS=2  # two stand-in GPUs, so the bench -g step runs too
export NCD_STANDIN_TOPO_XML=$src/topology/rings/azure-ncv4-a100-pcie.xml
export NCD_STANDIN_GRAPH_XML=$src/topology/rings/azure-ncv4-a100-pcie-graph.xml
t0=$(date +%s)
NCD_GPU_CHECK_STANDIN=$standin_lib OUT=$tmp/out timeout 330 "$src/scripts/gpu-check" run "$tmp/bundle" > "$tmp/log" 2>&1
rc=$?
took=$(( $(date +%s) - t0 ))
cat "$tmp/log"
fail=0
[[ $rc -eq 0 ]] || { echo "FAIL: gpu-check exit $rc"; fail=1; }
(( took < 300 )) || { echo "FAIL: took ${took}s"; fail=1; }
[[ $(ls "$tmp/out" | sort | tr '\n' ' ') == "gpu-check.tar.gz summary.txt " ]] || { echo "FAIL: OUT holds $(ls "$tmp/out")"; fail=1; }
for want in "nccl-doctor gpu-check:" "libnccl.so.2: $standin_lib (CPU stand-in)" "bench, 1 GPU" "sendrecv, non-blocking vs" \
            "rings " "copies (expected" "two_ranks_one_gpu" "bench -g: one process"; do
  grep -qF "$want" "$tmp/out/summary.txt" || { echo "FAIL: summary lacks '$want'"; fail=1; }
done
tar tzf "$tmp/out/gpu-check.tar.gz" | grep -q "nccl-dumps/topo.xml" || { echo "FAIL: no raw topology dump in the archive"; fail=1; }
tar tzf "$tmp/out/gpu-check.tar.gz" | grep -q "nccl-info/.*log" || { echo "FAIL: no NCCL_DEBUG=INFO log in the archive"; fail=1; }
# bench -g on two stand-in GPUs: no error (3 is the honest "no bandwidth model for the stand-in"),
# and a row per algorithm with no wrong element.
grep -E '^  bench_g +exit [013] ' "$tmp/out/summary.txt" >/dev/null || { echo "FAIL: bench -g failed"; fail=1; }
for algo in ring tree native; do
  grep -E "^  allreduce +$algo +[0-9]+ +[0-9.]+ +[0-9.]+ +0\$" "$tmp/out/summary.txt" >/dev/null ||
    { echo "FAIL: no checked bench -g allreduce $algo row"; fail=1; }
done
echo "gpu-check on the stand-in: exit $rc in ${took}s"
exit $fail
