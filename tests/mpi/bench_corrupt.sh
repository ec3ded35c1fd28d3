#!/usr/bin/env bash
# bench -c: the data check of a real measurement run. Rank 1 flips one element of its output
# before the validator sees it (NCD_TEST_CORRUPT_RANK): bench.data_corrupt must name rank 1,
# its rows must show #wrong > 0, the others none, and the exit code must be 2.
set -u
bin=$1; shift
mpiexec=("$@")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
NCD_TEST_CORRUPT_RANK=1 timeout 120 "${mpiexec[@]}" -n 3 "$bin" bench --backend mpi --algo ring,tree,native \
  --op allreduce,broadcast -b 4K -e 64K -f 16 -n 3 -w 1 -c 2 --json "$tmp/r.json" > "$tmp/r.txt" 2>&1
rc=$?
[[ $rc -eq 2 ]] || { echo "exit $rc, expected 2"; cat "$tmp/r.txt"; exit 1; }
python3 - "$tmp/r.json" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
rows = r["measurements"]["collectives"]
assert rows and all(c["wrong"] == 1 for c in rows), [(c["op"], c["algo"], c["wrong"]) for c in rows]
f = [x for x in r["findings"] if x["id"] == "bench.data_corrupt"]
assert len(f) == 5, [x["id"] + " " + x["subject"] for x in r["findings"]]  # 3 allreduce + 2 broadcast series
assert all(x["subject"] == "ranks 1" for x in f), [x["subject"] for x in f]
assert all(w in (0, 1) for row in r["sections"]["bench"]["wrong_per_rank"] for w in row)
print("ok: rank 1 named in", len(f), "series")
PY
grep -q "#wrong" "$tmp/r.txt" || { echo "no nccl-tests header"; cat "$tmp/r.txt"; exit 1; }
