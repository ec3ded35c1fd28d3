#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# --prom-dir on 4 simulated nodes (issue 18): each node's first rank writes its own textfile
# (rank 0 sends it with the exit code), nccl-doctor-node<i>.prom, holding that node's link
# series; node0's also holds the job-wide ones; together they are --prom's series; no temporary
# file is left. (The nodes share this machine's file system, so one folder sees all four.)
source "$(dirname "$0")/lib.sh" "$1" "$2"
here=$(cd "$(dirname "$0")" && pwd)
e2e_up 4
mkdir -p "$E2E_TMP/dir"
"$E2E_SIM" run 4 -- "$E2E_BIN" links --size 256K -n 2 --timeout 60 --prom "$E2E_TMP/whole.prom" \
  --prom-dir "$E2E_TMP/dir" > "$E2E_TMP/out.txt" 2>&1
rc=$?
echo "links on 4 nodes with --prom-dir: exit $rc"
[[ $rc -le 2 ]] || { cat "$E2E_TMP/out.txt"; echo "FAIL: exit $rc"; exit 1; }
ls -A "$E2E_TMP/dir"
[[ $(ls -A "$E2E_TMP/dir" | tr '\n' ' ') == "nccl-doctor-node0.prom nccl-doctor-node1.prom nccl-doctor-node2.prom nccl-doctor-node3.prom " ]] ||
  { cat "$E2E_TMP/out.txt"; echo "FAIL: expected one textfile per node and nothing else"; exit 1; }
for i in 0 1 2 3; do
  f=$E2E_TMP/dir/nccl-doctor-node$i.prom
  part=(--prom-part); [[ $i -eq 0 ]] && part=()
  python3 "$here/../tools/check_reports.py" --prom "$f" "${part[@]}" > /dev/null || exit 1
  grep -q "^nccl_doctor_links{host=\"node$i\",class=\"net\"} 6$" "$f" ||
    { cat "$f"; echo "FAIL: node$i's file lacks its 6 directed net links"; exit 1; }
  others=$(grep -v '^#' "$f" | grep -o 'host="[^"]*"' | sort -u | grep -vx "host=\"node$i\"")
  [[ $i -eq 0 || -z $others ]] || { echo "FAIL: node$i's file holds series of $others"; exit 1; }
done
grep -q "^nccl_doctor_exit_code $rc$" "$E2E_TMP/dir/nccl-doctor-node0.prom" || { echo "FAIL: node0 lacks the job-wide series"; exit 1; }
cmp <(cat "$E2E_TMP"/dir/*.prom | grep -v '^#' | sort) <(grep -v '^#' "$E2E_TMP/whole.prom" | sort) ||
  { echo "FAIL: the per-node files together are not --prom's series"; exit 1; }
echo "ok: 4 textfiles, one per node, written by each node's first rank; together --prom's series"
echo PASS
