#!/usr/bin/env bash
# GPU: bench --backend nccl on one GPU (ring, tree, native communicators), data-checked, with
# copy bandwidth. Exit 77 (skip) where there is no GPU or the build has no NCCL backend.
set -u
bin=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$bin" version | grep -q "NCCL backend on" || { echo "skip: built without NCCL"; exit 77; }
"$bin" bench --backend nccl --algo ring,tree,native -b 1M -e 16M -f 4 -n 5 -w 2 -c 1 --copy --copy-size 64M \
  --json "$tmp/r.json" > "$tmp/r.txt" 2>&1
rc=$?
if [[ $rc -eq 3 ]] && grep -q "no GPU" "$tmp/r.txt"; then echo "skip: $(cat "$tmp/r.txt")"; exit 77; fi
[[ $rc -eq 0 || $rc -eq 1 ]] || { echo "exit $rc"; cat "$tmp/r.txt"; exit 1; }
python3 - "$tmp/r.json" <<'PY' || { cat "$tmp/r.txt"; exit 1; }
import json, sys
r = json.load(open(sys.argv[1]))
rows = r["measurements"]["collectives"]
algos = {c["algo"] for c in rows if c["op"] == "allreduce"}
assert algos == {"ring", "tree", "native"}, (algos, r["notes"])
for c in rows:
    assert c["backend"] == "nccl" and c["wrong"] == 0 and c["algbw_gbps"] > 0, c
kinds = {c["kind"] for c in r["sections"]["copies"]}
assert {"h2d", "d2h"} <= kinds, kinds
assert all(c["gbps"] > 0 for c in r["sections"]["copies"])
assert not [f for f in r["findings"] if f["id"] in ("bench.data_corrupt", "bench.timeout")], r["findings"]
print("ok:", len(rows), "rows,", len(r["sections"]["copies"]), "copies")
PY
