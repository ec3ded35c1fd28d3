#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench -g 4 (one process, no mpiexec) when a device misbehaves: the stand-in flips one byte of
# device 3's output (the data check names rank 3 = GPU 3, exit 2), and device 2's launch hangs
# (a wedged GPU): the other devices' communicators are aborted at the deadline, rank 2 is named
# in bench.timeout, and the process ends within the deadline plus a margin although the thread
# driving device 2 never comes back.
source "$(dirname "$0")/common.bash"
unset OMPI_COMM_WORLD_SIZE OMPI_COMM_WORLD_RANK PMI_RANK PMI_SIZE PMIX_RANK SLURM_PROCID 2>/dev/null
fail=0
NCD_STANDIN_CORRUPT_RANK=3 timeout 120 "$bin" bench --backend nccl -g 4 --expected-busbw 0.0001 --algo ring,native \
  --op allreduce,allgather -b 4K -e 16K -f 4 -n 2 -w 1 -c 1 --timeout 60 --json "$tmp/r.json" > "$tmp/out" 2>&1 < /dev/null
rc=$?
if [[ $rc -ne 2 ]]; then
  echo "FAIL: corrupt: exit $rc, expected 2"; cat "$tmp/out"; fail=1
else
  python3 - "$tmp/r.json" <<'PY' || { cat "$tmp/out"; fail=1; }
import json, sys
r = json.load(open(sys.argv[1]))
rows = r["measurements"]["collectives"]
assert len(rows) == 8 and all(c["wrong"] >= 1 for c in rows), [(c["op"], c["algo"], c["wrong"]) for c in rows]
f = [x for x in r["findings"] if x["id"] == "bench.data_corrupt"]
assert len(f) == 4 and all(x["subject"] == "ranks 3" for x in f), [(x["id"], x["subject"]) for x in r["findings"]]
per_rank = r["sections"]["bench"]["wrong_per_rank"]
assert all(row[3] >= 1 and row[0] == row[1] == row[2] == 0 for row in per_rank), per_rank
print("ok: -g 4: device 3's corrupted element caught in", len(f), "series")
PY
fi
deadline=10
margin=40
t0=$(now)
NCD_STANDIN_STALL_RANK=2 timeout 150 "$bin" bench --backend nccl -g 4 --algo ring --op allreduce \
  -b 4K -e 4K -n 3 -w 1 -c 1 --timeout $deadline --json "$tmp/s.json" > "$tmp/sout" 2>&1 < /dev/null
rc=$?
t1=$(now)
python3 - "$tmp/s.json" "$t0" "$t1" "$deadline" "$margin" "$rc" "$tmp/trace" <<'PY' || { tail -30 "$tmp/sout"; fail=1; }
import json, re, sys
path, t0, t1, deadline, margin, rc = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
assert rc != 124, "bench -g 4: the process hung"
took = t1 - t0
assert took < deadline + margin, f"bench -g 4: took {took:.1f} s (deadline {deadline} s)"
r = json.load(open(path))
f = [x for x in r["findings"] if x["id"] == "bench.timeout"]
assert f, ("no bench.timeout", [x["id"] for x in r["findings"]], r.get("notes"))
assert re.fullmatch(r"ranks? 2", f[0]["subject"]), f[0]["subject"]
trace = open(sys.argv[7]).read()
assert "stall rank=2" in trace and all(f"abort rank={q}" in trace for q in (0, 1, 3)), trace[-2000:]
print(f"ok: -g 4: stalled device named {f[0]['subject']!r} after {took:.1f} s (deadline {deadline:.0f} s), "
      f"the others aborted, exit {rc}")
PY
exit $fail
