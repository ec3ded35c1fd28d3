#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# An init that fails: rank 1's communicator with NCCL_ALGO=Tree fails asynchronously
# (ncclCommGetAsyncError reports ncclSystemError). Rank 1 aborts at once, so its peers' inits
# fail too instead of waiting for it until the deadline: every rank moves on promptly (far
# inside the 120 s deadline), ring and native are measured, the note names rank 1.
source "$(dirname "$0")/common.bash"
t0=$(now)
NCD_STANDIN_INIT_FAIL_RANK=1 NCD_STANDIN_INIT_FAIL_ALGO=Tree timeout 200 "${mpiexec[@]}" -n 4 "$bin" bench \
  --backend nccl --expected-busbw 0.0001 --algo ring,tree,native --op allreduce -b 4K -e 4K -n 2 -w 1 -c 1 --timeout 120 \
  --json "$tmp/r.json" > "$tmp/out" 2>&1
rc=$?
t1=$(now)
python3 - "$tmp/r.json" "$t0" "$t1" "$rc" <<'PY' || { cat "$tmp/out"; exit 1; }
import json, sys
r = json.load(open(sys.argv[1]))
took, rc = float(sys.argv[3]) - float(sys.argv[2]), int(sys.argv[4])
assert rc in (0, 1), rc
assert took < 60, f"took {took:.1f} s: ranks waited for the failed one (deadline 120 s)"
algos = sorted(c["algo"] for c in r["measurements"]["collectives"])
assert algos == ["native", "ring"], algos
notes = [n for n in r["notes"] if "NCCL_ALGO=Tree" in n]
assert notes and "rank 1" in notes[0] and "injected init failure" in notes[0], r["notes"]
assert not [f for f in r["findings"] if f["id"] == "bench.timeout"], r["findings"]
print(f"ok: {took:.1f} s; {notes[0]}")
PY
# Every communicator fails: the job still ends promptly, with a note per algorithm.
t0=$(now)
NCD_STANDIN_INIT_FAIL_RANK=1 timeout 200 "${mpiexec[@]}" -n 4 "$bin" bench --backend nccl --expected-busbw 0.0001 --algo ring,native \
  --op allreduce -b 4K -e 4K -n 2 -w 1 -c 1 --timeout 120 --json "$tmp/r2.json" > "$tmp/out2" 2>&1
rc=$?
t1=$(now)
python3 - "$tmp/r2.json" "$t0" "$t1" "$rc" <<'PY' || { cat "$tmp/out2"; exit 1; }
import json, sys
r = json.load(open(sys.argv[1]))
took, rc = float(sys.argv[3]) - float(sys.argv[2]), int(sys.argv[4])
assert rc != 124 and took < 60, (rc, took)
assert not r["measurements"]["collectives"], r["measurements"]["collectives"]
assert len([n for n in r["notes"] if "could not be created" in n and "rank 1" in n]) == 2, r["notes"]
print(f"ok: all inits failed, job ended after {took:.1f} s with exit {rc}")
PY
