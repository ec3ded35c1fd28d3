#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Interrupts and odd launches (issue 20) on a local 4-rank job:
# - Ctrl-C (SIGINT to mpiexec) in the middle of a sweep: the report says INCOMPLETE
#   (summary.incomplete true, exit_code 3), one run.interrupted finding, and no error finding
#   blaming a rank that was only waiting; rank 0's own exit status is 3; a .prom file from an
#   earlier run is left as it was.
# - MPMD `sweep : env`: one run.ranks_disagree finding naming both groups and what each runs,
#   exit 3 from every rank (so mpiexec exits 3), within seconds, not at a deadline.
# - the same command with a different --timeout on two ranks: named the same way.
set -u
bin=$1; shift
mpiexec=("$@")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0

# Each rank's exit status, recorded by a wrapper (mpiexec's own status after Ctrl-C is its own).
cat > "$tmp/wrap.sh" <<'EOF'
#!/usr/bin/env bash
rc_dir=$1; shift
"$@"
echo $? > "$rc_dir/rc.${OMPI_COMM_WORLD_RANK:-${PMIX_RANK:-x}}"
EOF
chmod +x "$tmp/wrap.sh"

# ---- Ctrl-C mid-sweep
echo "old metrics from the last complete run" > "$tmp/r.prom"
# Mid-sweep, for sure: rank 2 pauses (NCD_TEST_FAULT hang: a sleep the signal ends) before its
# 2nd timed bench loop, so the others are waiting for it when Ctrl-C comes; its stderr line
# says when. No rank is dead: none may be blamed.
timeout 120 "${mpiexec[@]}" -n 4 -x NCD_TEST_FAULT=2:bench@2:hang "$tmp/wrap.sh" "$tmp" "$bin" sweep \
  --timeout 90 --json "$tmp/r.json" --prom "$tmp/r.prom" > "$tmp/sweep.out" 2>&1 &
job=$!
for _ in $(seq 900); do
  grep -q "ncd-test-fault: rank 2" "$tmp/sweep.out" && break
  sleep 0.1
done
grep -q "ncd-test-fault: rank 2" "$tmp/sweep.out" || { echo "FAIL: the sweep never reached its 2nd bench loop"; fail=1; }
sleep 1
mpiexec_pid=$(pgrep -P $job -x "$(basename "${mpiexec[0]}")" | head -1)
[[ -n $mpiexec_pid ]] || mpiexec_pid=$job
t_int=$(date +%s.%N)
kill -INT "$mpiexec_pid"
wait $job
mpirc=$?
t_end=$(date +%s.%N)
echo "Ctrl-C: mpiexec exited $mpirc, $(python3 -c "print(round($t_end - $t_int, 2))") s after SIGINT"
python3 - "$tmp" "$mpirc" <<'PY' || { fail=1; tail -30 "$tmp/sweep.out"; }
import json, os, sys
tmp, mpirc = sys.argv[1], int(sys.argv[2])
path = os.path.join(tmp, "r.json")
assert os.path.exists(path), "no report written after Ctrl-C"
r = json.load(open(path))
s = r["summary"]
ids = [(f["id"], f["severity"], f["subject"]) for f in r["findings"]]
assert s["incomplete"] is True, s
assert s["exit_code"] == 3, (s, ids)
assert any(i == "run.interrupted" for i, _, _ in ids), ids
errors = [x for x in ids if x[1] == "error"]
assert not errors, f"error findings after a plain Ctrl-C: {errors}"
assert not any(i in ("bench.timeout", "link.unresponsive") for i, _, _ in ids), ids
assert open(os.path.join(tmp, "r.prom")).read() == "old metrics from the last complete run\n", \
    "the previous .prom was replaced by an interrupted run"
rc0 = os.path.join(tmp, "rc.0")
if os.path.exists(rc0):  # rank 0 usually exits before the launcher's SIGKILL
    assert open(rc0).read().strip() == "3", f"rank 0 exited {open(rc0).read().strip()}"
    print("ok: rank 0 exited 3")
assert mpirc != 0, "mpiexec exited 0 after Ctrl-C"
print(f"ok: Ctrl-C mid-sweep: INCOMPLETE, exit_code 3, findings {ids}")
PY

# ---- MPMD: sweep on two ranks, env on two
start=$(date +%s.%N)
timeout 120 "${mpiexec[@]}" -n 2 "$bin" sweep --quick --timeout 60 --json "$tmp/mpmd.json" : \
  -n 2 "$bin" env --timeout 60 > "$tmp/mpmd.out" 2>&1
rc=$?
took=$(python3 -c "import time; print(round(time.time() - $start, 2))")
echo "MPMD sweep : env: mpiexec exited $rc after $took s"
python3 - "$tmp/mpmd.json" "$rc" "$took" <<'PY' || { fail=1; cat "$tmp/mpmd.out"; }
import json, sys
path, rc, took = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
r = json.load(open(path))
f = r["findings"]
assert len(f) == 1 and f[0]["id"] == "run.ranks_disagree", [(x["id"], x["message"]) for x in f]
m = f[0]["message"]
for want in ("ranks 0-1", "ranks 2-3", "sweep --quick", "env"):
    assert want in m, f"{want!r} not in {m!r}"
assert r["summary"]["exit_code"] == 3 and r["summary"]["incomplete"] is True, r["summary"]
assert rc == 3, f"mpiexec exited {rc}, every rank should exit 3"
assert took < 50, f"took {took} s: the mismatch must be found at start-up, not at a deadline"
print(f"ok: MPMD: {m}")
PY

# ---- same command, different --timeout on two ranks
timeout 120 "${mpiexec[@]}" -n 2 "$bin" env --timeout 30 --json "$tmp/opt.json" : \
  -n 2 "$bin" env --timeout 31 > "$tmp/opt.out" 2>&1
rc=$?
python3 - "$tmp/opt.json" "$rc" <<'PY' || { fail=1; cat "$tmp/opt.out"; }
import json, sys
r = json.load(open(sys.argv[1]))
rc = int(sys.argv[2])
f = r["findings"]
assert len(f) == 1 and f[0]["id"] == "run.ranks_disagree", f
assert "--timeout 30" in f[0]["message"] and "--timeout 31" in f[0]["message"], f[0]["message"]
assert rc == r["summary"]["exit_code"] == 3, (rc, r["summary"])
print(f"ok: options differ: {f[0]['message']}")
PY
[[ $fail -eq 0 ]] && echo "interrupts and odd launches: all cases passed"
exit $fail
