#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Must show (issue 18): under `mpiexec -n 4 ... sweep --quick > out.txt 2>&1` (no terminal),
# out.txt grows stage by stage: rank 0 (only) prints a line as each stage starts and ends, in
# the order of the run's stages, with non-decreasing elapsed times, and the stage lines are in
# the file while the sweep is still running (before its report). No timing margins: order and
# presence only.
set -u
bin=$1; shift
mpiexec=("$@")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
out=$tmp/out.txt

timeout 200 "${mpiexec[@]}" -n 4 "$bin" sweep --quick --json "$tmp/r.json" > "$out" 2>&1 < /dev/null &
pid=$!
# Sample the file while the job runs: how many stage lines, and whether the report is there yet.
seen_early=0
samples=0
while kill -0 "$pid" 2>/dev/null; do
  n=$(grep -c ' sweep \[[0-9/]*\] [a-z]*: ' "$out" 2>/dev/null)
  if [[ $n -ge 2 ]] && ! grep -q '^# nccl-doctor sweep' "$out"; then seen_early=$((seen_early + 1)); fi
  samples=$((samples + 1))
  sleep 0.2
done
wait "$pid"
rc=$?
[[ $rc -le 2 ]] || { echo "FAIL: sweep exit $rc"; cat "$out"; exit 1; }
grep -q '^# nccl-doctor sweep' "$out" || { echo "FAIL: no report text"; cat "$out"; exit 1; }
[[ $seen_early -ge 1 ]] || { echo "FAIL: in $samples samples the stage lines never appeared before the report"; cat "$out"; exit 1; }

python3 - "$out" "$tmp/r.json" <<'PY' || exit 1
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
r = json.load(open(sys.argv[2]))
stages = r["stages"] if isinstance(r.get("stages"), list) else r["sections"]["stages"]
pat = re.compile(r"^nccl-doctor: (\d\d:\d\d:\d\d)Z t=([0-9.]+)s sweep \[(\d+)(?:/\d+)?\] (\w+): (started|done|skipped)(.*)$")
events = []
for l in lines:
    m = pat.match(l)
    if m:
        events.append((float(m.group(2)), m.group(4), m.group(5), m.group(6)))
if not events:
    print("FAIL: no stage lines"); sys.exit(1)
# Expected: for each stage of the run, started then done (ran) or skipped, in the run's order.
want = []
for s in stages:
    want += [(s["name"], "started"), (s["name"], "done")] if s["status"] == "ran" else [(s["name"], "skipped")]
got = [(e[1], e[2]) for e in events]
if got != want:
    print(f"FAIL: stage lines {got}\n   expected {want}"); sys.exit(1)
ts = [e[0] for e in events]
if any(b < a for a, b in zip(ts, ts[1:])):
    print(f"FAIL: elapsed times go backwards: {ts}"); sys.exit(1)
for e in events:
    if e[2] == "started" and "budget" not in e[3]:
        print(f"FAIL: a start line without its budget: {e}"); sys.exit(1)
    if e[2] == "done" and not re.search(r"done in [0-9.]+ s(, OVER| of)", e[2] + e[3]):
        print(f"FAIL: a done line without elapsed vs budget: {e}"); sys.exit(1)
print(f"ok: {len(events)} stage lines in order, t = {ts[0]:.1f} .. {ts[-1]:.1f} s")
PY
n_env=$(grep -c ' env: started' "$out")
[[ $n_env -eq 1 ]] || { echo "FAIL: $n_env ranks printed stage lines (rank 0 only)"; exit 1; }
# -q: no stage lines.
timeout 200 "${mpiexec[@]}" -n 2 "$bin" sweep --quick -q > "$tmp/q.txt" 2>&1 < /dev/null
grep -q ' sweep \[' "$tmp/q.txt" && { echo "FAIL: -q still printed stage lines"; cat "$tmp/q.txt"; exit 1; }
echo "PASS: stage lines seen before the report in $seen_early of $samples samples"
