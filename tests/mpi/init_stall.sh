#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A rank stopped (SIGSTOP) before MPI_Init finishes: MPI_Init waits for every rank and has no
# timeout of its own, so without the start-up watchdog the other ranks would wait for ever.
# They must each end with one line naming themselves (so the missing rank is the one not named)
# and the job must end within the watchdog's floor (20 s) plus a margin for start-up.
set -u
bin=$1; shift
mpiexec=("$@")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

start=$(date +%s.%N)
# Rank 3 stops itself before it starts the binary, so it never reaches MPI_Init's fence.
"${mpiexec[@]}" -n 4 bash -c '[[ ${OMPI_COMM_WORLD_RANK:-} == 3 ]] && kill -STOP $$; exec "$0" "$@"' \
  "$bin" --timeout 5 links --size 64K > "$tmp/out.txt" 2>&1 &
job=$!
victim=""
for _ in $(seq 1 600); do
  for pid in $(pgrep -P "$job"); do
    if tr '\0' '\n' < /proc/$pid/environ 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=3"; then victim=$pid; fi
  done
  [[ -n $victim ]] && break
  sleep 0.05
done
# The bound: the 20 s floor, start-up of four ranks on a loaded 2-core box, and the launcher's
# own clean-up. Past it the job is killed, so a regression fails here instead of hanging ctest.
( sleep 90; kill -KILL "$victim"; pkill -KILL -P "$job" ) >/dev/null 2>&1 & guard=$!
wait $job
rc=$?
end=$(date +%s.%N)
pkill -P $guard 2>/dev/null; kill $guard 2>/dev/null
kill -KILL "$victim" 2>/dev/null
python3 - "$tmp/out.txt" "$start" "$end" $rc <<'PY' || { cat "$tmp/out.txt"; exit 1; }
import re, sys
path, start, end, rc = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
text = open(path, errors="replace").read()
lines = [l for l in text.splitlines() if "MPI_Init did not finish within" in l]
ranks = sorted({int(m.group(1)) for l in lines for m in [re.search(r" rank (\d+) of 4\]", l)] if m})
took = end - start
# Rank 3 never prints (it is stopped); a waiting rank the launcher killed first may not print
# either, but at least one must, and none may name rank 3.
assert ranks and 3 not in ranks, f"ranks that said so: {ranks}; lines: {lines}"
assert rc != 0, "the job exited 0"
assert took < 20 + 60, f"took {took:.1f} s"
print(f"ok: ranks {ranks} named themselves waiting in MPI_Init; job ended after {took:.1f} s, exit {rc}")
PY
