# SPDX-License-Identifier: Apache-2.0
# Shared by the e2e scripts: usage `source lib.sh BIN SIM_CLUSTER`. Skips (77) without root,
# ip, tc, unshare or mpirun; brings up a 4-node simulated cluster under a prefix of its own and
# takes it down on every exit path.
set -u
E2E_BIN=$(readlink -f "$1")
E2E_SIM=$(readlink -f "$2")
[[ $EUID -eq 0 ]] || { echo "skip: needs root (network namespaces)"; exit 77; }
for c in ip tc unshare mpirun python3; do
  command -v "$c" >/dev/null 2>&1 || { echo "skip: missing $c"; exit 77; }
done
export NCD_SIM_PREFIX="e2e$$"
E2E_TMP=$(mktemp -d /tmp/ncd-e2e.XXXXXX)
e2e_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  "$E2E_SIM" down >/dev/null 2>&1 || echo "warning: sim-cluster down failed"
  rm -rf "$E2E_TMP"
  exit "$rc"
}
trap e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }
e2e_up() {
  "$E2E_SIM" up "${1:-4}" >/dev/null || { rc=$?; [[ $rc -eq 77 ]] && exit 77; echo "sim-cluster up failed ($rc)"; exit 1; }
}

# links e2e helpers. links_run LABEL NP ARGS...: runs `links` on NP ranks of the cluster, the
# report in $E2E_TMP/LABEL.json, output in LABEL.txt; prints the time taken.
links_run() {
  local label=$1 np=$2 t0 t1 rc
  shift 2
  t0=$(now)
  "$E2E_SIM" run "$np" -- "$E2E_BIN" links --json "$E2E_TMP/$label.json" "$@" > "$E2E_TMP/$label.txt" 2>&1
  rc=$?
  t1=$(now)
  echo "[$label] exit $rc in $(elapsed "$t0" "$t1") s: links $*"
  if [[ ! -s $E2E_TMP/$label.json ]]; then echo "FAIL: $label wrote no report"; cat "$E2E_TMP/$label.txt"; return 1; fi
  return 0
}
# links_check LABEL [--want ID:SUBJECT:SEV]... [--info ID:TEXT]...: exact findings (links_expect.py).
links_check() {
  local label=$1
  shift
  python3 "$(dirname "${BASH_SOURCE[0]}")/links_expect.py" "$E2E_TMP/$label.json" "$label" "$@" ||
    { sed -n '1,40p' "$E2E_TMP/$label.txt"; return 1; }
}
# links_base_mbit LABEL [DIV] [MIN] [MAX]: a controlled link rate (Mbit/s) well below what the
# machine carried in run LABEL (its median / DIV, clamped to MIN..MAX).
links_base_mbit() {
  local med
  med=$(python3 "$(dirname "${BASH_SOURCE[0]}")/links_expect.py" "$E2E_TMP/$1.json" "$1" --median) || return 1
  python3 -c "import sys; m, d, lo, hi = map(float, sys.argv[1:]); print(int(max(lo, min(hi, m * 8000 / d))))" \
    "$med" "${2:-4}" "${3:-80}" "${4:-400}"
}
# shape_all N RATE: every node's link to RATE (the controlled healthy baseline).
shape_all() {
  local i
  for ((i = 0; i < $1; i++)); do "$E2E_SIM" shape "node$i" "$2" >/dev/null || return 1; done
}
