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
  if ! python3 - "$tmp/$action.json" "$took" "$deadline" "$action" <<'PY'; then fail=1; fi
import json, sys
path, took, deadline, action = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
r = json.load(open(path))
ids = [(f["id"], f["subject"]) for f in r["findings"]]
def ranks(subject):
    out = set()
    for part in subject.removeprefix("ranks ").split(","):
        a, _, b = part.partition("-")
        out.update(range(int(a), int(b or a) + 1))
    return out
timeouts = [f for f in r["findings"] if f["id"] == "bench.timeout"]
assert len(timeouts) == 1, ids
named = ranks(timeouts[0]["subject"])
assert 2 in named, ids
# SIGKILL makes the launcher end the job: a rank it ended before that rank had answered (a
# loaded machine starts ranks late) is named too, with the launcher as the cause.
if named != {2}:
    assert action == "kill" and "launcher ended the job" in timeouts[0]["message"], timeouts[0]
assert r["summary"]["exit_code"] == 2, r["summary"]
assert len(r["hosts"]) == 1, r["hosts"]
h = r["hosts"][0]
assert h["ranks"] == [0, 1, 2, 3], h["ranks"]
assert isinstance(h["topology"], dict) and "pci" in h["topology"], "the node's model"
bound = sorted(b["rank"] for b in h["topology"].get("bindings", []))
assert bound == sorted({0, 1, 3} - named), (bound, named)
assert took < deadline + 15, f"took {took} s"
print(f"ok: {action} of rank 2 in the topology gather reported as bench.timeout {timeouts[0]['subject']!r}, ranks {bound} bound; "
      f"job ended {took:.1f} s after the fault (deadline {deadline:.0f} s)")
PY
done
exit $fail
