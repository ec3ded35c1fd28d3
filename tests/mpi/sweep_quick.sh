#!/usr/bin/env bash
# sweep --quick under mpiexec -n 4 (host backend on this machine): finishes within 2 minutes,
# every report file valid (JSON schema and exit code, Prometheus syntax, JUnit counts, HTML
# self-contained with SVG), `diff r.json r.json` exits 0, --save/--baseline round-trip, and a
# bad baseline exits 3 with one line naming the file before anything is measured.
set -u
bin=$1; shift
mpiexec=("$@")
here=$(cd "$(dirname "$0")" && pwd)
check=$here/../tools/check_reports.py
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

start=$(date +%s%N)
timeout 150 "${mpiexec[@]}" -n 4 "$bin" sweep --quick -v --json "$tmp/r.json" --prom "$tmp/r.prom" \
  --junit "$tmp/r.xml" --html "$tmp/r.html" --save "$tmp/saved.json" --save-allow-warnings > "$tmp/out.txt" 2>&1
rc=$?
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
took=$(printf "%d.%03d" $((took_ms / 1000)) $((took_ms % 1000)))
echo "sweep --quick: exit $rc in ${took} s"
# Four host ranks: the host backend is measured, NCCL's rings are not applicable (no GPU):
# a complete verdict, 0 or 1.
[[ $rc -le 1 ]] || { echo "exit $rc, expected 0 or 1"; cat "$tmp/out.txt"; exit 1; }
(( took_ms < 120000 )) || { echo "took ${took} s, the budget is 2 minutes"; cat "$tmp/out.txt"; exit 1; }
grep -q "# sweep plan (--quick)" "$tmp/out.txt" || { echo "-v did not show the plan"; cat "$tmp/out.txt"; exit 1; }
python3 "$check" --exit-code "$rc" --json "$tmp/r.json" --prom "$tmp/r.prom" --junit "$tmp/r.xml" \
  --html "$tmp/r.html" || { cat "$tmp/out.txt"; exit 1; }
cmp -s <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r.pop("duration_s"); print(json.dumps(r["findings"]))' "$tmp/r.json") \
       <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(json.dumps(r["findings"]))' "$tmp/saved.json") \
  || { echo "--save wrote other findings than --json"; exit 1; }
python3 - "$tmp/r.json" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
assert r["command"] == "sweep"
stages = {s["name"]: s for s in r["sections"]["stages"]}
assert stages["env"]["status"] == "ran", stages
assert stages["bench"]["status"] == "ran", stages
for s in stages.values():
    assert s["status"] in ("ran", "not_applicable"), s
    if s["status"] != "ran":
        assert s["reason"], f"stage {s['name']} {s['status']} without a reason"
assert r["summary"]["incomplete"] is False, r["summary"]
checks = {c["id"]: c for c in r["checks"]}
assert checks["link.slow"]["status"] == "evaluated" and checks["link.slow"]["subjects"] == 4, checks["link.slow"]
assert checks["bench.unstable"]["status"] == "evaluated", checks["bench.unstable"]
# Suspect pairs are measured again before they are blamed (the count is reported, 0 or more).
assert isinstance(r["sections"]["links"]["remeasured_pairs"], int), r["sections"]["links"]
for cid, c in checks.items():
    if cid.startswith("ring."):
        assert c["status"] == "not_applicable", c
rows = [c for c in r["measurements"]["collectives"] if c["op"] == "allreduce"]
assert {c["algo"] for c in rows} == {"ring", "tree", "native"}, rows
assert all(c["wrong"] == 0 and c["busbw_gbps"] > 0 and c["nranks"] == 4 for c in rows), rows
print("stages:", ", ".join(f"{n} {s['status']}" for n, s in stages.items()))
PY

"$bin" diff "$tmp/r.json" "$tmp/r.json" > "$tmp/diff.txt" 2>&1
rc=$?
[[ $rc -eq 0 ]] || { echo "diff r.json r.json: exit $rc"; cat "$tmp/diff.txt"; exit 1; }
grep -q "no changes" "$tmp/diff.txt" || { cat "$tmp/diff.txt"; exit 1; }

# A baseline that is not a report: exit 3, one line naming it, nothing measured.
echo '{"schema": "nccl-doctor/report/v0"}' > "$tmp/old.json"
timeout 60 "${mpiexec[@]}" -n 2 "$bin" sweep --quick --baseline "$tmp/old.json" --json "$tmp/b.json" \
  > "$tmp/bad.txt" 2> "$tmp/bad.err"
rc=$?
[[ $rc -eq 3 ]] || { echo "bad baseline: exit $rc"; cat "$tmp/bad.txt" "$tmp/bad.err"; exit 1; }
grep -c "old.json" "$tmp/bad.err" | grep -qx 1 || { echo "bad baseline: no single line naming the file"; cat "$tmp/bad.err"; exit 1; }
[[ ! -e $tmp/b.json ]] || { echo "bad baseline: a report was written"; exit 1; }

# The saved report as a baseline: the comparison runs (noise may or may not flag a regression).
timeout 150 "${mpiexec[@]}" -n 4 "$bin" sweep --quick --baseline "$tmp/saved.json" --json "$tmp/again.json" \
  > "$tmp/again.txt" 2>&1
rc=$?
[[ $rc -le 2 ]] || { echo "sweep --baseline: exit $rc"; cat "$tmp/again.txt"; exit 1; }
python3 "$check" --exit-code "$rc" --json "$tmp/again.json" || exit 1
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["sections"]["baseline"]["file"].endswith("saved.json")' \
  "$tmp/again.json" || { echo "no baseline section"; exit 1; }
echo "ok: sweep --quick in ${took} s, files valid, diff exits 0, baselines work"
