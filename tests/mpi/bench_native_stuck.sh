#!/usr/bin/env bash
# Deadline inside the MPI library: rank 1 stalls inside the timed loop of MPI's own allreduce
# (NCD_TEST_STALL_IN=native), so the other ranks block in MPI_Allreduce, which cannot be
# abandoned. The watchdog must write the report (rows measured so far + bench.timeout) and end
# the job soon after --timeout, never hang.
set -u
bin=$1; shift
mpiexec=("$@")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
NCD_TEST_STALL_RANK=1 NCD_TEST_STALL_IN=native timeout 90 "${mpiexec[@]}" -n 3 "$bin" bench --backend mpi \
  --algo ring,native -b 64K -e 64K -n 3 -w 1 --timeout 4 --json "$tmp/r.json" > "$tmp/r.txt" 2>&1
rc=$?
elapsed=$(( $(date +%s) - start ))
[[ $rc -ne 124 ]] || { echo "the job hung"; cat "$tmp/r.txt"; exit 1; }
[[ $rc -ne 0 ]] || { echo "exit 0 although a rank stalled"; cat "$tmp/r.txt"; exit 1; }
[[ $elapsed -lt 60 ]] || { echo "took ${elapsed}s"; exit 1; }
python3 - "$tmp/r.json" <<'PY' || { cat "$tmp/r.txt"; exit 1; }
import json, sys
r = json.load(open(sys.argv[1]))
f = [x for x in r["findings"] if x["id"] == "bench.timeout"]
assert len(f) == 1 and f[0]["subject"].startswith("MPI allreduce native"), r["findings"]
rows = r["measurements"]["collectives"]
assert [(c["op"], c["algo"]) for c in rows] == [("allreduce", "ring")], rows  # measured before the stall
assert r["summary"]["exit_code"] == 2
print("ok:", f[0]["message"])
PY
echo "ok: ended in ${elapsed}s (exit $rc)"
