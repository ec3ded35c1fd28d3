#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Issue 18 under mpiexec: a report written to `-` owns stdout (only rank 0 writes it; every
# rank's human text, the stage lines and the text report, is on stderr), so
#   mpiexec -n 4 nccl-doctor sweep --quick --prom - | <checker>
#   mpiexec -n 2 nccl-doctor env --json - | python3 -m json.tool
# work. The textfile of this real sweep passes the strict format check (and promtool when
# installed), --prom-dir gets one file for this host (all ranks run here) holding the same
# series, and the Grafana dashboard queries only metrics and labels this run wrote.
set -u
bin=$1; shift
mpiexec=("$@")
here=$(cd "$(dirname "$0")" && pwd)
tools=$here/../tools
dash=$here/../../packaging/grafana/nccl-doctor.json
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
promtool=${NCD_PROMTOOL:-$(command -v promtool || true)}

mkdir "$tmp/dir"
timeout 200 "${mpiexec[@]}" -n 4 "$bin" sweep --quick --prom - --prom-dir "$tmp/dir" > "$tmp/out.prom" 2> "$tmp/err.txt"
rc=$?
echo "sweep --quick --prom - under mpiexec -n 4: exit $rc"
[[ $rc -le 1 ]] || { cat "$tmp/err.txt"; fail "exit $rc"; }
python3 "$tools/check_reports.py" --prom - < "$tmp/out.prom" || { head -20 "$tmp/out.prom"; fail "stdout is not a clean textfile"; }
grep -q "sweep \[[0-9/]*\] env: started" "$tmp/err.txt" && grep -q "sweep \[[0-9/]*\] bench: done" "$tmp/err.txt" || { cat "$tmp/err.txt"; fail "no stage lines on stderr"; }
grep -qiE "healthy|warning" "$tmp/err.txt" || { cat "$tmp/err.txt"; fail "no text report on stderr"; }
grep -q "^nccl_doctor_stage_duration_seconds{stage=\"bench\"}" "$tmp/out.prom" || fail "no bench stage duration"
if [[ -n $promtool ]]; then
  "$promtool" check metrics < "$tmp/out.prom" || fail "promtool check metrics"
  echo "ok: promtool check metrics"
fi
files=("$tmp"/dir/*)
[[ ${#files[@]} -eq 1 && ${files[0]} == "$tmp"/dir/nccl-doctor-*.prom ]] || { ls -A "$tmp/dir"; fail "--prom-dir: expected one file for this host"; }
cmp <(grep -v '^#' "${files[0]}" | grep -v "^nccl_doctor_duration_seconds" | sort) \
    <(grep -v '^#' "$tmp/out.prom" | grep -v "^nccl_doctor_duration_seconds" | sort) ||
  fail "the --prom-dir file and --prom - hold different series"
python3 "$tools/check_dashboard.py" "$dash" "$tmp/out.prom" || fail "dashboard"
echo "ok: --prom - clean under mpiexec; $(grep -vc '^#' "$tmp/out.prom") samples; --prom-dir $(basename "${files[0]}")"

timeout 120 "${mpiexec[@]}" -n 2 "$bin" env --json - 2> "$tmp/env.err" | python3 -m json.tool > "$tmp/env.json" ||
  { cat "$tmp/env.err"; fail "mpiexec -n 2 env --json - | python3 -m json.tool"; }
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert sum(len(h["ranks"]) for h in r["hosts"]) == 2, r["hosts"]' "$tmp/env.json" ||
  fail "env --json -: not one report of 2 ranks"
echo "ok: mpiexec -n 2 env --json - | python3 -m json.tool"
echo PASS
