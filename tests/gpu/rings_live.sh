#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Live `nccl-doctor rings` on the GPUs of this machine (one rank per GPU when mpiexec is given).
# Usage: rings_live.sh <nccl-doctor> [mpiexec and its flags...]. Exit 77 = skipped (no GPU).
set -u
bin=$1
shift
if ! command -v nvidia-smi >/dev/null 2>&1 || ! ngpu=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU'); then
  echo "rings_live: no GPU: skipped"
  exit 77
fi
[ "$ngpu" -ge 1 ] || { echo "rings_live: no GPU: skipped"; exit 77; }
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
launch=()
if [ $# -gt 0 ] && [ "$ngpu" -ge 2 ]; then launch=("$@" -n "$ngpu"); fi
"${launch[@]}" "$bin" rings --format json --timeout 180 >"$out" 2>"$err"
rc=$?
if [ "$rc" -eq 3 ] && grep -q "no GPU\|NCCL backend" "$err"; then
  echo "rings_live: $(cat "$err"): skipped"
  exit 77
fi
if [ "$rc" -eq 3 ]; then
  echo "rings_live: could not complete:"; cat "$err"; exit 1
fi
python3 - "$out" "$ngpu" "${#launch[@]}" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
ngpu, mpi = int(sys.argv[2]), int(sys.argv[3]) > 0
rings = rep["sections"]["rings"]
assert rings, "no host analysed: %s" % rep.get("notes")
host = rings[0]
ring = [g for g in host["graphs"] if g["kind"] == "ring"]
assert ring and ring[0]["channels"], "no ring graph: %s" % host
want = ngpu if mpi else 1
got = len(ring[0]["channels"][0]["gpus"])
assert got == want, "ring has %d GPUs, expected %d" % (got, want)
assert "model" in host, "no model busbw"
print("rings_live: ok: %d ring channel(s) of %d GPU(s), model ring busbw %.1f GB/s, %d finding(s)" % (
    ring[0]["nchannels"], got, host["model"]["ring_busbw_gbps"], len(rep["findings"])))
PY
