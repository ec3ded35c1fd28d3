#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The stand-in flips one byte of rank 3's output of every collective (NCD_STANDIN_CORRUPT_RANK):
# the data check must name rank 3 in bench.data_corrupt for every series and exit 2.
source "$(dirname "$0")/common.bash"
NCD_STANDIN_CORRUPT_RANK=3 timeout 120 "${mpiexec[@]}" -n 4 "$bin" bench --backend nccl --algo ring,native \
  --op allreduce,allgather -b 4K -e 16K -f 4 -n 2 -w 1 -c 1 --timeout 60 --json "$tmp/r.json" > "$tmp/out" 2>&1
rc=$?
[[ $rc -eq 2 ]] || { echo "FAIL: exit $rc, expected 2"; cat "$tmp/out"; exit 1; }
python3 - "$tmp/r.json" <<'PY' || { cat "$tmp/out"; exit 1; }
import json, sys
r = json.load(open(sys.argv[1]))
rows = r["measurements"]["collectives"]
assert len(rows) == 8 and all(c["wrong"] >= 1 for c in rows), [(c["op"], c["algo"], c["wrong"]) for c in rows]
f = [x for x in r["findings"] if x["id"] == "bench.data_corrupt"]
assert len(f) == 4 and all(x["subject"] == "ranks 3" for x in f), [(x["id"], x["subject"]) for x in r["findings"]]
per_rank = r["sections"]["bench"]["wrong_per_rank"]
assert all(row[3] >= 1 and row[0] == row[1] == row[2] == 0 for row in per_rank), per_rank
print("ok: rank 3 named in", len(f), "series")
PY
