#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Must show (issue 18): two processes started as Slurm tasks (SLURM_NTASKS=2) without PMI, as
# plain `srun` does on a site whose MpiDefault is none: each would be its own one-rank job. Both
# must stop with exit 3 and one line that names the fix (`srun --mpi=pmix`).
set -u
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Nothing of a real launcher: no PMI, PMIx or Open MPI variables.
clean=(env -u PMIX_RANK -u PMIX_NAMESPACE -u PMI_RANK -u PMI_SIZE -u PMI_FD -u OMPI_COMM_WORLD_SIZE
       -u OMPI_COMM_WORLD_RANK -u MV2_COMM_WORLD_SIZE -u WORLD_SIZE -u LOCAL_RANK)
for cmd in env bench; do
  pids=()
  for r in 0 1; do
    "${clean[@]}" SLURM_JOB_ID=4242 SLURM_NTASKS=2 SLURM_PROCID=$r \
      timeout 120 "$bin" "$cmd" >"$tmp/$cmd.$r.out" 2>"$tmp/$cmd.$r.err" &
    pids+=($!)
  done
  for r in 0 1; do
    wait "${pids[$r]}"
    rc=$?
    err=$tmp/$cmd.$r.err
    if [[ $rc -ne 3 ]]; then echo "FAIL: $cmd task $r: exit $rc, expected 3"; cat "$err"; exit 1; fi
    lines=$(grep -c . "$err")
    if [[ $lines -ne 1 ]]; then echo "FAIL: $cmd task $r: $lines lines on stderr, expected 1"; cat "$err"; exit 1; fi
    if ! grep -q 'srun --mpi=pmix' "$err"; then echo "FAIL: $cmd task $r: the fix is not named"; cat "$err"; exit 1; fi
    if ! grep -q 'SLURM_NTASKS=2' "$err"; then echo "FAIL: $cmd task $r: does not say why"; cat "$err"; exit 1; fi
    if [[ -s $tmp/$cmd.$r.out ]]; then echo "FAIL: $cmd task $r printed a report"; cat "$tmp/$cmd.$r.out"; exit 1; fi
  done
  echo "ok: $cmd: $(cat "$tmp/$cmd.0.err")"
done
# The same processes with one task each are fine (no false alarm): exit is the verdict, not 3
# for the launch.
"${clean[@]}" SLURM_JOB_ID=4242 SLURM_NTASKS=1 SLURM_PROCID=0 timeout 120 "$bin" env >"$tmp/one.out" 2>"$tmp/one.err"
if grep -q 'srun --mpi' "$tmp/one.err"; then echo "FAIL: one task flagged"; cat "$tmp/one.err"; exit 1; fi
echo PASS
