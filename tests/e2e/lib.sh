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
# Message size (KiB) for a base rate: about 80 ms of transfer, at least 1 MiB (8x the tbf burst).
links_size_k() { echo $(( $1 * 10 > 1024 ? $1 * 10 : 1024 )); }
# links_calibrate N LABEL B_MBIT: shapes every node to B and runs a healthy sweep; prints B when
# the shaping is what limits (typical >= 0.7 B and noise <= 12%), else halves B and tries again
# (3 tries, never below 12 Mbit/s): on a loaded box the rate the test controls must be one the
# machine really carries. Exit 77 when no rate is controlled. Sets LINKS_ARGS for the next runs.
links_calibrate() {
  local n=$1 label=$2 b=$3 try
  for try in 1 2 3; do
    LINKS_ARGS=(--size "$(links_size_k "$b")K" -n 3 --passes 3 --timeout 150)
    shape_all "$n" "${b}mbit" || { echo "skip: tbf unavailable"; exit 77; }
    links_run "$label" "$n" "${LINKS_ARGS[@]}" >&2 || return 1
    if python3 - "$E2E_TMP/$label.json" "$b" >&2 <<'PY'; then echo "$b"; return 0; fi
import json, sys
r = json.load(open(sys.argv[1]))
net = r["sections"]["links"]["classes"].get("net", {})
rate = float(sys.argv[2]) / 8000
typical = net.get("median_gbps", 0)
bad = [(f["id"], f["subject"]) for f in r["findings"] if f["severity"] in ("warn", "error")]
# Controlled: the links run at the shaped rate (the tbf burst adds up to 15% to 1 MiB), their
# noise is small, and no node is starved (on an overloaded box node0, which also runs mpirun,
# is really slower).
ok = 0.7 * rate <= typical <= 1.3 * rate and net.get("noise", 1) <= 0.12 and not bad
print(f"calibration at {sys.argv[2]}mbit: typical {typical:.4f} GB/s of {rate:.4f}, "
      f"noise {100 * net.get('noise', 0):.1f}%, findings {bad}: {'controlled' if ok else 'not controlled (machine busy)'}")
sys.exit(0 if ok else 1)
PY
    b=$((b / 2))
    ((b >= 12)) || break
  done
  echo "skip: the machine is too busy to carry even ${b}mbit per link steadily" >&2
  exit 77
}
