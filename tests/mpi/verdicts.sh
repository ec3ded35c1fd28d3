#!/usr/bin/env bash
# Verdicts that never overstate (issue 13): what was not measured makes the run INCOMPLETE.
# - one process, no GPU: `sweep --quick` exits 3, summary.incomplete, the text's first lines
#   name bench and links as not measured and say how to measure them; its JUnit has no passing
#   nvlink.*, gpu.*, ring.*, gdr.* testcase; its Prometheus file no 0 for unevaluated checks;
# - `-n 2 --timeout 4 sweep --quick`: the stages that did not fit are listed, exit 3 (or 2);
# - `bench` as one process exits 3;
# - `--skip links` under 2 ranks: links excluded, the verdict complete (0 or 1);
# - `diff` of a 2-rank and a 4-rank report exits 3 naming the ranks, --shared-rows compares;
# - `--save` refuses an incomplete report.
set -u
bin=$1; shift
mpiexec=("$@")
here=$(cd "$(dirname "$0")" && pwd)
check=$here/../tools/check_reports.py
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
no_gpu=0
"$bin" version | grep -q "GPUs          0" && no_gpu=1

# 1. One process.
timeout 120 "$bin" sweep --quick --json "$tmp/one.json" --junit "$tmp/one.xml" --prom "$tmp/one.prom" \
  --save "$tmp/one-saved.json" > "$tmp/one.txt" 2> "$tmp/one.err"
rc=$?
[[ $rc -eq 3 ]] || { cat "$tmp/one.txt" "$tmp/one.err"; fail "one process: exit $rc, expected 3"; }
head -3 "$tmp/one.txt" | grep -q "^INCOMPLETE: not measured: bench (.*); links (" \
  || { cat "$tmp/one.txt"; fail "the first lines do not name bench and links as not measured"; }
head -4 "$tmp/one.txt" | grep -q "to measure it: run under mpirun or srun" \
  || { cat "$tmp/one.txt"; fail "no word on how to measure them"; }
grep -q "^checked [0-9]* check(s) on 1 node(s); not applicable" "$tmp/one.txt" \
  || { cat "$tmp/one.txt"; fail "no 'checked N checks' line"; }
[[ ! -e $tmp/one-saved.json ]] || fail "--save kept an incomplete report as a baseline"
grep -q "not saved as a baseline: the run is incomplete" "$tmp/one.err" || { cat "$tmp/one.err"; fail "no word on --save"; }
python3 "$check" --exit-code 3 --json "$tmp/one.json" --junit "$tmp/one.xml" --prom "$tmp/one.prom" || exit 1
python3 - "$tmp/one.json" "$tmp/one.xml" "$no_gpu" <<'PY' || exit 1
import json, sys, xml.etree.ElementTree as ET
r = json.load(open(sys.argv[1]))
assert r["summary"]["incomplete"] is True and r["summary"]["exit_code"] == 3, r["summary"]
st = {s["name"]: s for s in r["stages"]}
assert st["bench"]["status"] == "skipped" and st["bench"]["cause"] == "too_few_ranks", st["bench"]
assert st["links"]["status"] == "skipped" and st["links"]["cause"] == "too_few_ranks", st["links"]
checks = {c["id"]: c for c in r["checks"]}
assert checks["link.slow"]["status"] == "could_not_run", checks["link.slow"]
assert checks["pcie.link_degraded"]["status"] == "evaluated", checks["pcie.link_degraded"]
if sys.argv[3] == "1":
    assert st["rings"]["status"] == "not_applicable", st["rings"]
    for cid in ("nvlink.down", "gpu.nic_far", "gdr.unavailable", "nvlink.count_mismatch", "ring.path_degraded"):
        assert checks[cid]["status"] == "not_applicable" and checks[cid]["reason"].startswith("no GPU"), checks[cid]
    passing = [c.get("name") for c in ET.parse(sys.argv[2]).getroot().iter("testcase")
               if c.find("failure") is None and c.find("skipped") is None and c.find("error") is None]
    bad = [n for n in passing if n.split(".")[0] in ("nvlink", "gpu", "ring", "gdr")]
    assert not bad, f"passing testcases on a host without GPUs: {bad}"
print("ok: one process: exit 3, incomplete, bench and links named, no GPU checks passed")
PY

# 2. A deadline too short for the stages.
timeout 120 "${mpiexec[@]}" -n 2 "$bin" --timeout 4 sweep --quick --json "$tmp/short.json" > "$tmp/short.txt" 2>&1
rc=$?
[[ $rc -eq 3 || $rc -eq 2 ]] || { cat "$tmp/short.txt"; fail "--timeout 4: exit $rc, expected 3 (or 2)"; }
python3 "$check" --exit-code "$rc" --json "$tmp/short.json" || exit 1
python3 - "$tmp/short.json" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
assert r["summary"]["incomplete"] is True, r["summary"]
late = [s["name"] for s in r["stages"] if s["status"] == "skipped"]
assert late, r["stages"]
assert all(s["cause"] in ("deadline", "failure") for s in r["stages"] if s["status"] == "skipped"), r["stages"]
for name in late:
    assert name in r["summary"]["incomplete_reason"], (name, r["summary"]["incomplete_reason"])
print("ok: --timeout 4: did not fit:", ", ".join(late))
PY

# 3. bench as one process.
timeout 60 "$bin" bench --backend mpi -b 1M -e 1M -n 2 -w 1 > "$tmp/b1.txt" 2>&1
rc=$?
[[ $rc -eq 3 ]] || { cat "$tmp/b1.txt"; fail "bench as one process: exit $rc, expected 3"; }

# 4. --skip links: excluded on purpose, the verdict is complete.
timeout 150 "${mpiexec[@]}" -n 2 "$bin" sweep --quick --skip links --json "$tmp/two.json" > "$tmp/two.txt" 2>&1
rc=$?
[[ $rc -le 1 ]] || { cat "$tmp/two.txt"; fail "-n 2 --skip links: exit $rc, expected 0 or 1"; }
python3 "$check" --exit-code "$rc" --json "$tmp/two.json" || exit 1
python3 - "$tmp/two.json" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
st = {s["name"]: s for s in r["stages"]}
assert st["links"]["status"] == "excluded" and st["links"]["cause"] == "excluded", st["links"]
assert st["bench"]["status"] == "ran", st["bench"]
assert r["summary"]["incomplete"] is False, r["summary"]
assert {c["status"] for c in r["checks"] if c["id"].startswith("link.")} == {"excluded"}, r["checks"]
PY

# 5. diff of different job shapes.
timeout 150 "${mpiexec[@]}" -n 4 "$bin" sweep --quick --only bench --json "$tmp/four.json" > "$tmp/four.txt" 2>&1
rc=$?
[[ $rc -le 1 ]] || { cat "$tmp/four.txt"; fail "-n 4 --only bench: exit $rc"; }
"$bin" diff "$tmp/two.json" "$tmp/four.json" > "$tmp/diff.txt" 2> "$tmp/diff.err"
rc=$?
[[ $rc -eq 3 ]] || { cat "$tmp/diff.txt" "$tmp/diff.err"; fail "diff 2 vs 4 ranks: exit $rc, expected 3"; }
grep -q "ranks 2 vs 4" "$tmp/diff.err" || { cat "$tmp/diff.err"; fail "diff does not name the ranks"; }
"$bin" diff --shared-rows "$tmp/two.json" "$tmp/four.json" > "$tmp/diff2.txt" 2>&1
rc=$?
[[ $rc -le 2 ]] || { cat "$tmp/diff2.txt"; fail "diff --shared-rows: exit $rc"; }
echo "ok: verdicts follow the evidence"
