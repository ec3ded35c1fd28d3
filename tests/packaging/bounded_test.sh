#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/ncd-bounded (used by scripts/run, nightly-sweep and sim-cluster run): a launcher that
# hangs after the tool wrote its report is ended at the tool's deadline + grace, and the exit
# status is the report's verdict; without a report it is 3; a launcher that ends by itself
# keeps its own status. The nightly script names no report when the launcher failed.
#   bounded_test.sh SOURCE_DIR
set -u
src=$1
b=$src/scripts/ncd-bounded
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# A stand-in launcher: writes the report nccl-doctor would (--json F), then hangs like mpirun
# waiting for a cut node's daemon. Its arguments look like a tool command line.
cat > "$tmp/launcher" <<'SH'
#!/usr/bin/env bash
report=; verdict=$NCD_FAKE_VERDICT
while [[ $# -gt 0 ]]; do [[ $1 == --json ]] && report=$2; shift; done
[[ -n $report && $verdict != none ]] && printf '{\n  "summary": {\n    "error": 1,\n    "exit_code": %s\n  }\n}\n' "$verdict" > "$report"
[[ ${NCD_FAKE_HANG:-1} == 1 ]] && exec sleep 600
exit "${NCD_FAKE_RC:-0}"
SH
chmod +x "$tmp/launcher"

t0=$(date +%s%N)
NCD_FAKE_VERDICT=2 "$b" --grace 2 -- "$tmp/launcher" sweep --timeout 1 --json "$tmp/r.json" 2>"$tmp/err"
rc=$?
took_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
took=$((took_ms / 1000))
[[ $rc -eq 2 ]] || { cat "$tmp/err"; fail "hung launcher with a report saying 2: exit $rc"; }
# The bound is deadline (1 s, rounded up: 2) + grace (2) = 4 s: the launcher is ended within it
# (SIGTERM at 2 s, as late as the bound allows after the deadline), not after the 600 s sleep.
# 1 s of the bound is left for the caller; the 0.5 s beyond it is process start-up on a busy box.
((took_ms >= 2000 && took_ms <= 4500)) || fail "ended after $took_ms ms, the bound is 4 s"
grep -q "node is cut or stuck.*exit 2" "$tmp/err" || { cat "$tmp/err"; fail "no one-line explanation"; }
echo "ok: hung launcher ended after $took s (bound 4 s), verdict 2 kept"

rm -f "$tmp/r.json"
NCD_FAKE_VERDICT=none "$b" --grace 1 -- "$tmp/launcher" sweep --timeout=1 --json "$tmp/r.json" 2>"$tmp/err"
rc=$?
[[ $rc -eq 3 ]] || fail "hung launcher without a report: exit $rc, expected 3"
grep -q "no report was written" "$tmp/err" || { cat "$tmp/err"; fail "message"; }
echo "ok: no report: exit 3"

NCD_FAKE_VERDICT=1 NCD_FAKE_HANG=0 NCD_FAKE_RC=1 "$b" -- "$tmp/launcher" sweep --json "$tmp/r.json" 2>"$tmp/err"
rc=$?
[[ $rc -eq 1 && ! -s $tmp/err ]] || fail "a launcher that ends keeps its status: exit $rc"
echo "ok: a launcher that ends keeps its status"

# nightly-sweep with a launcher that fails before anything is written: exit 3, no report path.
cat > "$tmp/nccl-doctor" <<'SH'
#!/usr/bin/env bash
exit 0
SH
chmod +x "$tmp/nccl-doctor"
"$src/scripts/nightly-sweep" --bin "$tmp/nccl-doctor" --launcher false --out "$tmp/out" --textfile-dir "$tmp/tf" \
  > "$tmp/n.out" 2>&1
rc=$?
[[ $rc -eq 3 ]] || { cat "$tmp/n.out"; fail "nightly with a failing launcher: exit $rc"; }
grep -q "no report was written" "$tmp/n.out" || { cat "$tmp/n.out"; fail "nightly message"; }
grep -q "report $tmp/out/reports/[0-9TZ]*\.json" "$tmp/n.out" && fail "nightly printed a report path that was never written"
grep -qx "nccl_doctor_exit_code 3" "$tmp/tf/nccl_doctor.prom" || fail "nightly textfile does not say exit 3"
echo "ok: nightly: $(tail -1 "$tmp/n.out")"
echo PASS
