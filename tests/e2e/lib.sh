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
