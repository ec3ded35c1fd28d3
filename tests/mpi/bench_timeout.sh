#!/usr/bin/env bash
# Deadline: rank 2 stalls (sleeps, NCD_TEST_STALL_RANK) before its first measurement. The
# others must give up at --timeout, rank 0 must write the report with bench.timeout naming
# rank 2 (and only it), and the job must end well before the stall would.
set -u
bin=$1; shift
mpiexec=("$@")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
NCD_TEST_STALL_RANK=2 timeout 90 "${mpiexec[@]}" -n 4 "$bin" bench --backend mpi --algo ring,native \
  -b 64K -e 64K -n 3 -w 1 --timeout 4 --json "$tmp/r.json" > "$tmp/r.txt" 2>&1
rc=$?
elapsed=$(( $(date +%s) - start ))
[[ $rc -ne 124 ]] || { echo "the job hung (killed by timeout 90)"; cat "$tmp/r.txt"; exit 1; }
[[ $rc -ne 0 ]] || { echo "exit 0 although a rank stalled"; cat "$tmp/r.txt"; exit 1; }
[[ $elapsed -lt 60 ]] || { echo "took ${elapsed}s"; exit 1; }
[[ -f $tmp/r.json ]] || { echo "no report written"; cat "$tmp/r.txt"; exit 1; }
python3 - "$tmp/r.json" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
f = [x for x in r["findings"] if x["id"] == "bench.timeout"]
assert len(f) == 1, r["findings"]
assert f[0]["subject"] == "ranks 2", f[0]
assert r["summary"]["exit_code"] == 2, r["summary"]
print("ok:", f[0]["message"])
PY
echo "ok: finished in ${elapsed}s (exit $rc)"
