#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Issue 18, without MPI (tests/mpi/stdout_reports.sh does the same under mpiexec):
#  - a report written to `-` owns stdout: `env --json - | python3 -m json.tool` works, and
#    `--prom -`, `--junit -`, `--html -` give a clean stream; the text report goes to stderr;
#  - the Prometheus textfile passes a strict format check (tests/tools/check_reports.py: HELP
#    and TYPE for every family, base units, bounded labels, no sentinels) and `promtool check
#    metrics` when promtool is installed (Debian's `prometheus` package ships it);
#  - --prom-dir writes one textfile per host (nccl-doctor-HOST.prom) atomically (no temporary
#    left), and their series together are --prom's;
#  - the Grafana dashboard (packaging/grafana/nccl-doctor.json) queries only metrics, and
#    labels, that these textfiles hold.
#   stdout_prom_test.sh BIN SOURCE_DIR
set -u
bin=$(readlink -f "$1")
src=$(cd "$2" && pwd)
tools=$src/tests/tools
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
unset OMPI_COMM_WORLD_SIZE PMIX_RANK PMI_RANK PMI_SIZE SLURM_NTASKS SLURM_STEP_NUM_TASKS WORLD_SIZE
sample=$src/tests/data/sample_report.json
promtool=${NCD_PROMTOOL:-$(command -v promtool || true)}

# env --json -: stdout is the JSON alone, the human text is on stderr.
"$bin" env --json - > "$tmp/env.json" 2> "$tmp/env.err"
rc=$?
[[ $rc -le 1 ]] || { cat "$tmp/env.err"; fail "env --json -: exit $rc"; }
python3 -m json.tool < "$tmp/env.json" > /dev/null || { head -c 600 "$tmp/env.json"; fail "env --json - | python3 -m json.tool"; }
[[ -s $tmp/env.err ]] || fail "env --json -: the text report went nowhere (expected on stderr)"
"$bin" env > "$tmp/env.txt" 2>/dev/null
first=$(grep -m1 . "$tmp/env.txt")
[[ -n $first ]] && grep -qF -- "$first" "$tmp/env.err" ||
  fail "env --json -: stderr does not hold the text report that env prints on stdout ('$first')"
"$bin" env --json - 2>/dev/null | python3 -m json.tool > /dev/null || fail "the pipe itself"
echo "ok: env --json - | python3 -m json.tool (text report on stderr, $(wc -l < "$tmp/env.err") lines)"

# --prom - of a saved sweep report: the textfile alone on stdout.
"$bin" show "$sample" --prom - --prom-link-matrix > "$tmp/show.prom" 2> "$tmp/show.err"
rc=$?
[[ $rc -eq 2 ]] || { cat "$tmp/show.err"; fail "show --prom -: exit $rc, the sample report has errors (2)"; }
python3 "$tools/check_reports.py" --prom - < "$tmp/show.prom" || fail "show --prom - is not a clean textfile"
grep -q "nccl_doctor_link_bandwidth_bytes_per_second{" "$tmp/show.prom" || fail "--prom-link-matrix: no matrix"
grep -qi "error" "$tmp/show.err" || fail "show --prom -: no text report on stderr"
"$bin" show "$sample" --prom - -q 2>/dev/null | python3 "$tools/check_reports.py" --prom - > /dev/null || fail "-q"
if [[ -n $promtool ]]; then
  "$promtool" check metrics < "$tmp/show.prom" || fail "promtool check metrics"
  echo "ok: promtool check metrics"
else
  echo "note: promtool not installed (Debian package 'prometheus'); the strict checker stands in"
fi
# The other formats on stdout.
"$bin" show "$sample" --junit - 2>/dev/null | python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.stdin)' ||
  fail "--junit - is not clean XML"
"$bin" show "$sample" --html - 2>/dev/null | head -c 15 | grep -qi "<!doctype html" || fail "--html - does not start the page"
echo "ok: --prom -, --junit -, --html - own stdout"

# --prom-dir: one file per host, the union is --prom's.
mkdir "$tmp/dir"
"$bin" show "$sample" --prom "$tmp/whole.prom" --prom-dir "$tmp/dir" > /dev/null 2>&1
[[ $? -eq 2 ]] || fail "show --prom-dir: exit"
ls "$tmp/dir" > "$tmp/files"
hosts=$(python3 -c 'import json,sys; print(" ".join(sorted("nccl-doctor-%s.prom" % h["name"] for h in json.load(open(sys.argv[1]))["hosts"])))' "$sample")
[[ $(sort "$tmp/files" | tr '\n' ' ') == "$hosts " ]] || { cat "$tmp/files"; fail "--prom-dir files: want $hosts"; }
[[ -z $(ls -A "$tmp/dir" | grep -v '\.prom$') ]] || fail "a temporary file was left in --prom-dir"
for f in "$tmp"/dir/*.prom; do python3 "$tools/check_reports.py" --prom "$f" --prom-part > /dev/null || fail "$f"; done
cmp <(cat "$tmp"/dir/*.prom | grep -v '^#' | sort) <(grep -v '^#' "$tmp/whole.prom" | sort) ||
  fail "the --prom-dir files together are not --prom's series"
"$bin" show "$sample" --prom-dir "$tmp/nope" > /dev/null 2> "$tmp/e"
[[ $? -eq 3 ]] && grep -q "prom-dir.*not a directory" "$tmp/e" || fail "a missing --prom-dir must exit 3 naming it"
echo "ok: --prom-dir: $(tr '\n' ' ' < "$tmp/files")"

# The dashboard over what the tool writes (the saved sweep and env).
"$bin" env --prom "$tmp/env.prom" > /dev/null 2>&1
python3 "$tools/check_dashboard.py" "$src/packaging/grafana/nccl-doctor.json" "$tmp/show.prom" "$tmp/env.prom" ||
  fail "the dashboard queries what the tool does not write"
# The checker itself fails when a queried metric is missing (env writes no link or busbw series).
python3 "$tools/check_dashboard.py" "$src/packaging/grafana/nccl-doctor.json" "$tmp/env.prom" > /dev/null 2>&1 &&
  fail "check_dashboard.py passed a textfile without the dashboard's metrics"
echo PASS
