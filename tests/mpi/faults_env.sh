#!/usr/bin/env bash
# Distributed faults (issue 9) on a local 4-rank job: rank 2 SIGKILLed or SIGSTOPped when it
# reaches the gather. Rank 0 must still write a complete JSON report naming rank 2
# (bench.timeout), and the job must end within the deadline plus a margin.
set -u
bin=$1; shift
mpiexec=("$@")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
deadline=5
fail=0
for action in kill stop; do
  start=$(date +%s.%N)
  timeout 60 "${mpiexec[@]}" -n 4 -x NCD_TEST_FAULT=2:gather:$action "$bin" env --timeout $deadline \
    --json "$tmp/$action.json" >"$tmp/$action.out" 2>&1
  rc=$?
  # From the fault (its stamp in the output), not from the start: MPI start-up on a loaded box
  # takes 15 s by itself and is not what this test measures.
  t_fault=$(sed -n 's/.*ncd-test-fault: rank 2 .* t=\([0-9.]*\).*/\1/p' "$tmp/$action.out" | head -1)
  took=$(python3 -c "import time; print(round(time.time() - float('${t_fault:-$start}'), 2))")
  if [[ $rc -eq 124 ]]; then echo "FAIL $action: the job hung (killed by timeout 60)"; fail=1; continue; fi
  if ! NCD_MPI_TESTS=$(dirname "$0") python3 - "$tmp/$action.json" "$took" "$deadline" "$action" <<'PY'; then fail=1; fi
import json, os, sys
sys.dont_write_bytecode = True  # nothing written into the checkout
sys.path.insert(0, os.environ["NCD_MPI_TESTS"])
import fault_report
path, took, deadline, action = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
r = json.load(open(path))
named, subject = fault_report.timeout_ranks(r, action)
assert r["summary"]["exit_code"] == 2, r["summary"]
assert took < deadline + 15, f"took {took} s"
print(f"ok: {action} of rank 2 reported as bench.timeout {subject!r}; job ended {took:.1f} s after the fault (deadline {deadline:.0f} s)")
PY
done
exit $fail
