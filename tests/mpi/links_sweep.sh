#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# links under mpiexec -n 4 on one host (class shm): every mode measures what it should and a
# healthy run raises nothing; a rank stopped mid-sweep (SIGSTOP) is reported as
# link.unresponsive with the report written, within --timeout plus a margin.
set -u
bin=$1; shift
mpiexec=("$@")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Four ranks on a shared 2-core box: when other jobs load it beyond its cores, a starved rank is
# really slower (the tool says node.slow and names CPU load among the causes), so a healthy run
# may only raise link/node slowness warnings then, never an unresponsive link.
# The four ranks alone already outnumber the cores of a 2-core box (contended): their shm links
# share the CPUs, and a moderately slower rank or pair there is real. Then slowness *warnings*
# are tolerated (never an error, never an unresponsive link); with 4 or more cores, nothing is.
overloaded=$(python3 -c "import os; print(int(os.getloadavg()[0] > os.cpu_count()))")
contended=$(python3 -c "import os; print(int(len(os.sched_getaffinity(0)) < 4))")
check() {  # check FILE MODE NLINKS
  python3 - "$@" "$overloaded" "$contended" <<'PY' || exit 1
import json, os, sys
SLOWNESS = ("node.slow", "link.slow", "link.asymmetric", "link.latency_high")
path, mode, n, overloaded, contended = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5] == "1"
r = json.load(open(path))
bad = [(f["id"], f["subject"], f["severity"]) for f in r["findings"] if f["severity"] != "info"]
if overloaded:
    print(f"note: machine overloaded (load {os.getloadavg()[0]:.1f}): tolerating {bad}")
    bad = [b for b in bad if b[0] not in SLOWNESS]
elif contended:
    if bad:
        print(f"note: 4 ranks on {len(os.sched_getaffinity(0))} cores: tolerating slowness warnings {bad}")
    bad = [b for b in bad if not (b[0] in SLOWNESS and b[2] == "warn")]
assert not bad, f"{mode}: healthy run raised {bad}"
links = r["measurements"]["links"]
# bisect measures 4 links in its first round (two rings of two); a group that looks slow is
# split and tested again, which adds links.
assert len(links) == n or (mode == "bisect" and len(links) > n), f"{mode}: {len(links)} links, expected {n}"
if mode == "bisect":
    b = r["sections"]["links"]["bisect"]
    assert b["rounds"] >= 1 and b["tests"] >= 2, b
assert all(l["ok"] and l["gbps"] > 0 and l["class"] == "shm" for l in links), links
assert r["sections"]["links"]["mode"] == mode
print(f"ok: {mode}: {n} links, {min(l['gbps'] for l in links):.2f}..{max(l['gbps'] for l in links):.2f} GB/s")
PY
}

for mode in pairwise ring bisect; do
  "${mpiexec[@]}" -n 4 "$bin" links --mode $mode --size 4M --json "$tmp/$mode.json" > "$tmp/$mode.txt" 2>&1
  rc=$?
  [[ $rc -eq 0 || ( $contended -eq 1 && $rc -eq 1 ) || ( $overloaded -eq 1 && ( $rc -eq 1 || $rc -eq 2 ) ) ]] ||
    { echo "$mode: exit $rc"; cat "$tmp/$mode.txt"; exit 1; }
  case $mode in pairwise) n=12 ;; ring) n=8 ;; bisect) n=4 ;; esac
  check "$tmp/$mode.json" $mode $n
done
grep -q "Bandwidth matrix" "$tmp/pairwise.txt" || { echo "no matrix"; cat "$tmp/pairwise.txt"; exit 1; }

"$bin" links --backend nccl > "$tmp/nccl.txt" 2>&1
rc=$?
# No NCCL send/recv backend for link sweeps: the value is refused as a usage error, one line.
[[ $rc -eq 3 && $(grep -c . "$tmp/nccl.txt") -eq 1 ]] || { echo "--backend nccl: exit $rc"; cat "$tmp/nccl.txt"; exit 1; }
"$bin" links --size 2G > "$tmp/size.txt" 2>&1
[[ $? -eq 3 ]] || { echo "--size 2G accepted"; exit 1; }

# A rank that stops answering: SIGSTOP rank 3 a second into a long sweep.
timeout_s=12
"${mpiexec[@]}" -n 4 "$bin" -v links --size 1M --repeat 1000000 --timeout $timeout_s \
  --json "$tmp/stop.json" > "$tmp/stop.txt" 2>&1 &
job=$!
# Stop it mid-sweep, not mid-start-up (a rank stopped inside MPI_Init is init_stall.sh's case):
# with -v and no terminal, rank 0 prints its steps as lines; the sweep line comes once every
# rank has passed the start-up exchange. Under a sanitizer start-up alone takes seconds.
for _ in $(seq 1 600); do
  grep -q "sweep over 4 ranks" "$tmp/stop.txt" 2>/dev/null && break
  kill -0 $job 2>/dev/null || break
  sleep 0.1
done
grep -q "sweep over 4 ranks" "$tmp/stop.txt" || { echo "the sweep did not start"; cat "$tmp/stop.txt"; kill $job; exit 1; }
sleep 1
start=$(date +%s.%N)
victim=""
for pid in $(pgrep -P "$job"); do
  if tr '\0' '\n' < /proc/$pid/environ 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=3"; then victim=$pid; fi
done
[[ -n $victim ]] || { echo "rank 3 not found"; kill $job; exit 1; }
kill -STOP "$victim"
stopped=$(date +%s.%N)
wait $job
rc=$?
end=$(date +%s.%N)
kill -KILL "$victim" 2>/dev/null
python3 - "$tmp/stop.json" "$start" "$stopped" "$end" $timeout_s $rc <<'PY' || { cat "$tmp/stop.txt"; exit 1; }
import json, sys
path, start, stopped, end, timeout_s, rc = sys.argv[1], *map(float, sys.argv[2:6]), int(sys.argv[6])
r = json.load(open(path))
un = [f for f in r["findings"] if f["id"] == "link.unresponsive"]
assert un and all("rank3" in f["subject"] for f in un), [(f["id"], f["subject"]) for f in r["findings"]]
assert r["summary"]["exit_code"] == 2
assert end - start < timeout_s + 10, f"took {end - start:.1f} s"
print(f"ok: stopped rank 3 reported ({un[0]['subject']}), report and job end "
      f"{end - stopped:.1f} s after the stop, exit {rc}")
PY
