#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# GPU backend on the stand-in, 4 ranks: forced ring, forced tree and NCCL's own choice each get
# their own communicator with NCCL_ALGO set at init (the stand-in records what it read), every
# row is data-checked, Tree is refused for allgather (a note, measured under native only),
# and the user's NCCL_ALGO is what NCCL sees again afterwards.
source "$(dirname "$0")/common.bash"
NCCL_ALGO=Ring timeout 120 "${mpiexec[@]}" -n 4 "$bin" bench --backend nccl --expected-busbw 0.0001 --algo ring,tree,native \
  --op allreduce,allgather,sendrecv -b 4K -e 64K -f 4 -n 3 -w 1 -c 2 --timeout 60 --json "$tmp/r.json" > "$tmp/out" 2>&1
rc=$?
[[ $rc -eq 0 || $rc -eq 1 ]] || { echo "FAIL: exit $rc"; cat "$tmp/out"; exit 1; }
python3 - "$tmp/r.json" "$tmp/trace" <<'PY' || { cat "$tmp/out"; exit 1; }
import json, sys, collections
r = json.load(open(sys.argv[1]))
rows = r["measurements"]["collectives"]
got = collections.Counter((c["op"], c["algo"]) for c in rows)
want = {("allreduce", "ring"): 3, ("allreduce", "tree"): 3, ("allreduce", "native"): 3,
        ("allgather", "ring"): 3, ("allgather", "native"): 3, ("sendrecv", "native"): 3}
assert dict(got) == want, dict(got)
assert all(c["backend"] == "nccl" and c["wrong"] == 0 and c["time_us"] > 0 for c in rows), rows
assert not [f for f in r["findings"] if f["id"] in ("bench.data_corrupt", "bench.timeout", "gpu.duplicate")], r["findings"]
assert any("tree allgather" in n for n in r["notes"]), r["notes"]
inits = [dict(kv.split("=", 1) for kv in l.split()[1:]) for l in open(sys.argv[2]) if l.startswith("init ")]
algos = collections.Counter(i["algo"] for i in inits)
# ring, tree and native (= the user's NCCL_ALGO=Ring, which must reach NCCL unchanged)
assert algos == {"Ring": 8, "Tree": 4}, algos
assert all(i["blocking"] == "0" and i["topo_dump"] == "-" for i in inits), inits
assert sorted(int(i["device"]) for i in inits if i["algo"] == "Tree") == [0, 1, 2, 3], inits
print("ok:", len(rows), "rows,", dict(algos), "inits; notes:", r["notes"])
PY
# Without a user setting, native's communicator sees no NCCL_ALGO at all.
rm -f "$tmp/trace"
timeout 120 "${mpiexec[@]}" -n 4 "$bin" bench --backend nccl --expected-busbw 0.0001 --algo tree,native --op allreduce -b 4K -e 4K -n 2 -w 1 -c 1 \
  --timeout 60 --json "$tmp/r2.json" > "$tmp/out2" 2>&1 || [[ $? -eq 1 ]] || { cat "$tmp/out2"; exit 1; }
python3 - "$tmp/trace" <<'PY' || { cat "$tmp/out2"; exit 1; }
import sys, collections
inits = [dict(kv.split("=", 1) for kv in l.split()[1:]) for l in open(sys.argv[1]) if l.startswith("init ")]
algos = collections.Counter(i["algo"] for i in inits)
assert algos == {"Tree": 4, "-": 4}, algos
print("ok: native = NCCL's own choice (no NCCL_ALGO):", dict(algos))
PY
