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
# SIGKILL makes the launcher end the job: a rank it ended before that rank had sent its part
# (a loaded machine starts ranks late) did not answer either, and is named, with the launcher
# as the cause. Otherwise rank 2 alone.
if named != {2}:
    assert action == "kill" and "launcher ended the job" in timeouts[0]["message"], timeouts[0]
assert r["summary"]["exit_code"] == 2, r["summary"]
assert took < deadline + 15, f"took {took} s"
print(f"ok: {action} of rank 2 reported as bench.timeout {timeouts[0]['subject']!r}; job ended {took:.1f} s after the fault (deadline {deadline:.0f} s)")
PY
done
exit $fail
