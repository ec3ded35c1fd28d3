#!/usr/bin/env bash
# topo under mpiexec -n 4 on this machine: one host probed once, every rank's binding reported,
# exit 0 here (no GPU, one NUMA node); the saved model replayed offline gives the same report.
set -u
bin=$1; shift
mpiexec=("$@")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

"${mpiexec[@]}" -n 4 "$bin" topo --json "$tmp/live.json" --save "$tmp/saved.json" > "$tmp/live.txt" 2>&1
rc=$?
[[ $rc -eq 0 ]] || { echo "live topo: exit $rc"; cat "$tmp/live.txt"; exit 1; }
for r in 0 1 2 3; do
  grep -q "^rank $r cores" "$tmp/live.txt" || { echo "rank $r binding missing"; cat "$tmp/live.txt"; exit 1; }
done
"$bin" topo --load "$tmp/saved.json" --json "$tmp/offline.json" > "$tmp/offline.txt" 2>&1
rc=$?
[[ $rc -eq 0 ]] || { echo "offline topo: exit $rc"; cat "$tmp/offline.txt"; exit 1; }
python3 - "$tmp/live.json" "$tmp/offline.json" <<'PY' || exit 1
import json, sys
live, off = (json.load(open(p)) for p in sys.argv[1:3])
assert len(live["hosts"]) == 1, live["hosts"]
h = live["hosts"][0]
assert h["ranks"] == [0, 1, 2, 3], h["ranks"]
assert len(h["topology"]["bindings"]) == 4, h["topology"]["bindings"]
assert "topology" in live["sections"], live["sections"].keys()
assert h["topology"] == off["hosts"][0]["topology"], "offline model differs from live"
assert h["fingerprint"] == off["hosts"][0]["fingerprint"]
strip = lambda fs: [(f["id"], f["subject"], f["message"]) for f in fs]
assert strip(live["findings"]) == strip(off["findings"]), (live["findings"], off["findings"])
print("ok: 4 bindings on one host, offline equals live")
PY
