#!/usr/bin/env bash
# Backend selection and usage errors, without a launcher: --backend nccl without a GPU (or
# without NCCL) is one line and exit 3; --backend auto falls back to the host backend with a
# note; bad sizes and types are one line and exit 3.
set -u
bin=$1; shift
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
one_line_exit3() {
  "$bin" "$@" > "$tmp/o.txt" 2> "$tmp/e.txt"; rc=$?
  [[ $rc -eq 3 ]] || { echo "$*: exit $rc, expected 3"; cat "$tmp/o.txt" "$tmp/e.txt"; exit 1; }
  [[ $(wc -l < "$tmp/e.txt") -eq 1 && ! -s $tmp/o.txt ]] || { echo "$*: not one line"; cat "$tmp/o.txt" "$tmp/e.txt"; exit 1; }
  echo "ok: $* -> $(cat "$tmp/e.txt")"
}
one_line_exit3 bench -b 1G -e 1M
one_line_exit3 bench -d nosuchtype
one_line_exit3 bench --op allreduce,gather
if "$bin" version | grep -q "GPUs          0"; then
  one_line_exit3 bench --backend nccl
  "$bin" bench --backend auto -b 64K -e 64K -n 2 -w 1 --json "$tmp/a.json" > "$tmp/a.txt" 2> "$tmp/a.err"
  rc=$?  # stderr carries the rows as they are measured; the report is on stdout
  # One process: nothing crosses a bus (busbw 0), so the bench checks could not run: INCOMPLETE.
  [[ $rc -eq 3 ]] || { echo "auto, one process: exit $rc, expected 3 (incomplete)"; cat "$tmp/a.txt" "$tmp/a.err"; exit 1; }
  head -1 "$tmp/a.txt" | grep -q "^INCOMPLETE" || { echo "the text does not start with INCOMPLETE"; cat "$tmp/a.txt"; exit 1; }
  python3 - "$tmp/a.json" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
assert r["sections"]["bench"]["backend"] == "mpi", r["sections"]["bench"]
assert any("host backend" in n for n in r["notes"]), r["notes"]
assert all(c["backend"] == "mpi" for c in r["measurements"]["collectives"])
assert r["summary"]["incomplete"] is True and r["summary"]["exit_code"] == 3, r["summary"]
st = {c["id"]: c for c in r["checks"]}
assert st["bench.busbw_low"]["status"] == "could_not_run" and "one rank" in st["bench.busbw_low"]["reason"], st
print("ok: --backend auto fell back to mpi with a note")
PY
fi
