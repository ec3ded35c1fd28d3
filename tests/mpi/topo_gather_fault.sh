#!/usr/bin/env bash
# The fingerprint-first topology gather (issue 19, dist/topo_gather.hpp) on a local 4-rank job:
# rank 2 SIGKILLed or SIGSTOPped when it reaches the gather (step 1, rank -> node leader). Rank 0
# must still write a complete report naming rank 2 (bench.timeout), with the node's model and the
# bindings of the three ranks that answered, and the job must end within the deadline plus a margin.
set -u
bin=$1; shift
mpiexec=("$@")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
deadline=6
fail=0
for action in kill stop; do
  start=$(date +%s.%N)
  timeout 60 "${mpiexec[@]}" -n 4 -x NCD_TEST_FAULT=2:gather:$action "$bin" topo --timeout $deadline \
    --json "$tmp/$action.json" >"$tmp/$action.out" 2>&1
  rc=$?
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
assert len(r["hosts"]) == 1, r["hosts"]
h = r["hosts"][0]
assert h["ranks"] == [0, 1, 2, 3], h["ranks"]
assert isinstance(h["topology"], dict) and "pci" in h["topology"], "the node's model"
bound = sorted(b["rank"] for b in h["topology"].get("bindings", []))
assert bound == sorted({0, 1, 3} - named), (bound, named)
assert took < deadline + 15, f"took {took} s"
print(f"ok: {action} of rank 2 in the topology gather reported as bench.timeout {subject!r}, ranks {bound} bound; "
      f"job ended {took:.1f} s after the fault (deadline {deadline:.0f} s)")
PY
done
exit $fail
