#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Distributed faults mid-run (issue 9) on a local 4-rank job: rank 2 is SIGKILLed or SIGSTOPped
# (NCD_TEST_FAULT) in the gather of `env`, right before the 3rd timed loop of
# `bench --backend mpi`, and right before a timed transfer of `links` (mid-sweep). Rank 0 must
# name rank 2 (bench.timeout / link.unresponsive) within the deadline plus a margin, write the
# report atomically (a scraper polling the path never reads a partial file, no temp file is
# left), and the job must end. Prints the time from fault to report for each case.
set -u
bin=$1; shift
mpiexec=("$@")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
deadline=6
margin=15
fail=0

# A scraper: reads the report path every 2 ms; every read that finds a file must parse.
scrape() {  # scrape PATH STOPFILE
  python3 - "$1" "$2" <<'PY'
import json, os, sys, time
path, stop = sys.argv[1], sys.argv[2]
reads = bad = 0
while not os.path.exists(stop):
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        time.sleep(0.002); continue
    reads += 1
    try:
        json.loads(text)
    except ValueError:
        bad += 1
    time.sleep(0.002)
print(f"scraper: {reads} reads of the report, {bad} partial")
sys.exit(1 if bad else 0)
PY
}

run_case() {  # run_case NAME FAULT EXPECT_ID EXPECT_SUBJECT_REGEX -- nccl-doctor args...
  local name=$1 fault=$2 want_id=$3 want_subject=$4; shift 5
  local json=$tmp/$name.json out=$tmp/$name.out stop=$tmp/$name.stop
  scrape "$json" "$stop" > "$tmp/$name.scrape" 2>&1 &
  local scraper=$!
  local start
  start=$(date +%s.%N)
  timeout 90 "${mpiexec[@]}" -n 4 -x NCD_TEST_FAULT="$fault" "$bin" "$@" --timeout $deadline \
    --json "$json" > "$out" 2>&1
  local rc=$?
  local end
  end=$(date +%s.%N)
  touch "$stop"; wait $scraper; local src=$?
  if [[ $rc -eq 124 ]]; then echo "FAIL $name: the job hung (killed by timeout 90)"; tail -20 "$out"; fail=1; return; fi
  if [[ $src -ne 0 ]]; then echo "FAIL $name: $(cat "$tmp/$name.scrape")"; fail=1; fi
  if ls "$tmp"/"$name".json.tmp.* "$tmp"/."$name".json.tmp.* >/dev/null 2>&1; then echo "FAIL $name: temporary report file left behind"; fail=1; fi
  python3 - "$json" "$out" "$start" "$end" "$deadline" "$margin" "$name" "$want_id" "$want_subject" "$rc" <<'PY' || { fail=1; tail -20 "$out"; }
import json, os, re, sys
path, out, start, end, deadline, margin, name, want_id, want_subject, rc = sys.argv[1:]
start, end, deadline, margin, rc = float(start), float(end), float(deadline), float(margin), int(rc)
assert os.path.exists(path), f"{name}: no report written (exit {rc})"
r = json.load(open(path))
text = open(out, errors="replace").read()
m = re.search(r"ncd-test-fault: rank 2 \w+ at \S+ arrival \d+, t=([0-9.]+)", text)
assert m, f"{name}: the fault never fired (exit {rc})"
t_fault = float(m.group(1))
t_report = os.stat(path).st_mtime
def ranks_of(subject):  # "ranks 1-2,5" -> {1, 2, 5}
    out = set()
    m = re.match(r"ranks? ([0-9,-]+)", subject)
    for part in (m.group(1).split(",") if m else []):
        a, _, b = part.partition("-")
        if a.isdigit():
            out.update(range(int(a), int(b or a) + 1))
    return out
def names(f):
    if want_subject.startswith("covers:"):  # the rank set must include this rank
        return int(want_subject[7:]) in ranks_of(f["subject"])
    return re.search(want_subject, f["subject"] + " " + f["message"])
hits = [f for f in r["findings"] if f["id"] == want_id and names(f)]
assert hits, f"{name}: no {want_id} naming rank 2 in {[(f['id'], f['subject']) for f in r['findings']]}"
assert r["summary"]["exit_code"] in (1, 2), r["summary"]
assert rc != 0, f"{name}: exit 0 although a rank died"
to_report = t_report - t_fault
# -0.05: the fault time and the report time come from two processes' clocks
assert -0.05 <= to_report < deadline + margin, f"{name}: report {to_report:.2f} s after the fault (deadline {deadline} s)"
print(f"ok: {name}: {want_id} '{hits[0]['subject']}'; fault->report {to_report:.2f} s, "
      f"fault->job end {end - t_fault:.2f} s (deadline {deadline:.0f} s, exit {rc})")
PY
}

for action in kill stop; do
  if [[ $action == kill ]]; then want="covers:2"; else want="^ranks 2 "; fi
  run_case "env-$action" "2:gather:$action" bench.timeout "$want" -- env
  # SIGKILL: the launcher tears the job down within ~1 s, so a rank that was slow to answer may
  # be listed with rank 2 ("ranks 1-2"); rank 2 must be among them. SIGSTOP: rank 2 alone.
  if [[ $action == kill ]]; then want="covers:2"; else want="^ranks 2 "; fi
  run_case "bench-$action" "2:bench@3:$action" bench.timeout "$want" -- \
    bench --backend mpi --algo ring -b 64K -e 1M -f 2 -n 5 -w 1
  # The first timed transfer of the sweep (latency of round 1 measured): later rounds may not
  # fit --timeout on a loaded 2-core box.
  # SIGKILL: Open MPI tears every rank down within ~1 s (SIGCONT, SIGTERM), so rank 0 hears
  # nobody in the round and cannot single out rank 2 (it blames its own side): the report must
  # still be written, atomically, with link.unresponsive. SIGSTOP: rank 2 must be named.
  if [[ $action == kill ]]; then want="<->"; else want="rank ?2"; fi
  run_case "links-$action" "2:links@1:$action" link.unresponsive "$want" -- \
    links --mode pairwise --size 256K
done
[[ $fail -eq 0 ]] && echo "faults mid-run: all cases passed"
exit $fail
