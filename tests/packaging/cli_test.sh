#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# CLI polish (issue 18): --version; range messages a person can read (no 300-digit numbers);
# "did you mean" only for real names, and a bad value lists the valid ones; every command's
# help shows its defaults, the global options and two examples.
#   cli_test.sh BIN SOURCE_DIR
set -u
bin=$(readlink -f "$1")
src=$(cd "$2" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# Never start MPI here: no launcher variables.
unset OMPI_COMM_WORLD_SIZE PMIX_RANK PMI_RANK PMI_SIZE SLURM_NTASKS SLURM_STEP_NUM_TASKS WORLD_SIZE

v=$("$bin" --version) || fail "--version exited $?"
[[ $v =~ ^nccl-doctor\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "--version printed '$v'"
"$bin" version | head -1 | grep -qx "$v" || fail "--version and version disagree"
echo "ok: --version: $v"

expect_error() {  # expect_error WHAT_MUST_APPEAR ARGS...
  local want=$1; shift
  "$bin" "$@" > "$tmp/o" 2> "$tmp/e" < /dev/null
  local rc=$?
  [[ $rc -eq 3 ]] || { cat "$tmp/e"; fail "'$*': exit $rc, expected 3"; }
  [[ $(grep -c . "$tmp/e") -eq 1 ]] || { cat "$tmp/e"; fail "'$*': not one line"; }
  grep -qF -- "$want" "$tmp/e" || { cat "$tmp/e"; fail "'$*': does not say '$want'"; }
  [[ $(wc -c < "$tmp/e") -lt 240 ]] || { cat "$tmp/e"; fail "'$*': message of $(wc -c < "$tmp/e") characters"; }
  grep -qE '[0-9]{12,}|e\+[0-9]{2,}' "$tmp/e" && { cat "$tmp/e"; fail "'$*': unreadable number in the message"; }
  echo "ok: $* -> $(cat "$tmp/e")"
}
expect_error "positive number of seconds" --timeout 0 env
expect_error "positive number of seconds" --timeout -5 env
expect_error "positive number of seconds" env --timeout abc
expect_error "positive number of nodes" rings --nodes 0 --topo-xml x --graph-xml y
expect_error "is not one of warn, error" --fail-on err env
grep -q "did you mean '--fail-on'" "$tmp/e" && fail "--fail-on err suggests the flag itself"
expect_error "is not one of text, json" --format jsn env
expect_error "did you mean '--fail-on'" --fial-on warn env
expect_error "did you mean 'sweep'" swep
expect_error "is not one of pairwise, ring, bisect" links --mode pair

mapfile -t cmds < <("$bin" --help | awk '/^Subcommands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{on=0}')
[[ ${#cmds[@]} -ge 10 ]] || fail "only ${#cmds[@]} commands in --help"
for c in "${cmds[@]}"; do
  "$bin" "$c" --help > "$tmp/h" 2>&1 || fail "$c --help exited $?"
  for g in --json --prom --junit --html --format --fail-on --timeout --verbose --quiet --color; do
    grep -q -- "$g" "$tmp/h" || fail "$c --help lacks the global option $g"
  done
  grep -q "(default: 300)" "$tmp/h" || fail "$c --help does not show --timeout's default"
  n=$(awk '/^Examples:/{on=1; next} on && /^  (nccl-doctor|mpirun|zcat)/{n++} END {print n+0}' "$tmp/h")
  [[ $n -ge 2 ]] || { cat "$tmp/h"; fail "$c --help has $n examples, expected 2"; }
done
# Options with a default show it in their own help line.
"$bin" bench --help | grep -E -- '-b,--minbytes' | grep -q '1M' || fail "bench -b does not show its default"
"$bin" links --help | grep -E -- '--mode' | grep -q 'pairwise' || fail "links --mode does not show its default"
echo "ok: ${#cmds[@]} commands: global options, defaults and two examples in each help"
# log: evidence names the file relative to where the user ran it, even when given absolutely.
log=$(ls "$src"/tests/data/logs/cases/dupgpu-*.log | head -1)
(cd "$src/tests/data" && "$bin" log "$log" > "$tmp/log.txt" 2>&1)
grep -q "logs/cases/$(basename "$log"):[0-9]" "$tmp/log.txt" || { cat "$tmp/log.txt"; fail "log evidence does not name the file"; }
grep -qF "$src/tests" "$tmp/log.txt" && { cat "$tmp/log.txt"; fail "log evidence repeats the absolute path"; }
echo "ok: log evidence relative to the working directory"
echo PASS
