#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# 4 simulated nodes, nothing wrong: `links` measures all 12 directions, raises no warning or
# error, and takes under 30 s.
source "$(dirname "$0")/lib.sh" "$1" "$2"
e2e_up 4
t0=$(now)
"$E2E_SIM" run 4 -- "$E2E_BIN" links --size 8M --json "$E2E_TMP/r.json" > "$E2E_TMP/out.txt" 2>&1
rc=$?
t1=$(now)
cat "$E2E_TMP/out.txt"
echo "links sweep: $(elapsed "$t0" "$t1") s (mpirun included)"
overloaded=$(python3 -c "import os; print(int(os.getloadavg()[0] > os.cpu_count()))")
[[ $rc -eq 0 || ( $overloaded -eq 1 && $rc -eq 1 ) ]] || { echo "FAIL: exit $rc on a healthy cluster"; exit 1; }
python3 - "$E2E_TMP/r.json" "$(elapsed "$t0" "$t1")" "$overloaded" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
bad = [f for f in r["findings"] if f["severity"] in ("warn", "error")]
if sys.argv[3] == "1":
    # Unshaped links on a box loaded beyond its cores: a CPU-starved simulated node (node0 also
    # runs mpirun) is really slower, and the attribution says so (node.slow names CPU load).
    # The controlled-rate tests (links_attribution*.sh) assert silence where the test sets the
    # rates; here only findings other than slowness fail.
    print(f"note: machine overloaded: tolerating {[(f['id'], f['subject']) for f in bad]}")
    bad = [f for f in bad if f["id"] not in ("node.slow", "link.slow", "link.asymmetric", "link.latency_high")]
assert not bad, f"healthy cluster raised {[(f['id'], f['subject']) for f in bad]}"
links = r["measurements"]["links"]
assert len(links) == 12, f"{len(links)} links, expected 12"
assert all(l["ok"] and l["gbps"] > 0 and l["class"] == "net" for l in links), links
assert sorted(h["name"] for h in r["hosts"]) == ["node0", "node1", "node2", "node3"], r["hosts"]
assert float(sys.argv[2]) < 30, f"sweep took {sys.argv[2]} s"
g = sorted(l["gbps"] for l in links)
print(f"ok: 12 healthy links, {g[0]:.3f}..{g[-1]:.3f} GB/s, no findings")
PY
