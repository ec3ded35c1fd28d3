#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# node2's link shaped to 200 Mbit/s (tbf, both directions) and every other node's to 800 Mbit/s:
# `links` names node2 (node.slow or link.slow) and nothing else, and measures its links within
# 20% of the shaped 25 MB/s. Every rate is one the test sets: the other links are held at
# 100 MB/s, far below what even a loaded 2-core box carries between namespaces (300+ MB/s), so
# a CPU-starved node0 (it also runs mpirun) does not look slow; unshaped speeds would assert
# how busy the machine is.
source "$(dirname "$0")/lib.sh" "$1" "$2"
e2e_up 4
"$E2E_SIM" shape node2 200mbit >/dev/null || { echo "skip: tbf unavailable"; exit 77; }
for n in node0 node1 node3; do "$E2E_SIM" shape "$n" 800mbit >/dev/null || { echo "FAIL: shape $n"; exit 1; }; done
t0=$(now)
"$E2E_SIM" run 4 -- "$E2E_BIN" links --size 8M --json "$E2E_TMP/r.json" > "$E2E_TMP/out.txt" 2>&1
rc=$?
t1=$(now)
cat "$E2E_TMP/out.txt"
echo "links sweep: $(elapsed "$t0" "$t1") s (mpirun included)"
[[ $rc -eq 1 || $rc -eq 2 ]] || { echo "FAIL: exit $rc, expected 1 or 2"; exit 1; }
python3 - "$E2E_TMP/r.json" "$(elapsed "$t0" "$t1")" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
bad = [f for f in r["findings"] if f["severity"] in ("warn", "error")]
assert bad, "no finding for node2"
for f in bad:
    assert f["id"] in ("node.slow", "link.slow"), f"unexpected {f['id']} {f['subject']}"
    assert "node2" in f["subject"] and "node2" in f["host"], f"finding does not name node2: {f}"
    if f["id"] == "node.slow":
        assert f["host"] == "node2", f"node.slow blames {f['host']}"
shaped = 200e6 / 8 / 1e9  # GB/s
ratios = []
for l in r["measurements"]["links"]:
    assert l["ok"], l
    if "node2" in (l["src_host"], l["dst_host"]):
        ratio = l["gbps"] / shaped
        ratios.append(ratio)
        assert 0.8 <= ratio <= 1.2, f"{l['src_host']}->{l['dst_host']} {l['gbps']:.4f} GB/s is {ratio:.2f}x the shaped rate"
    else:
        assert l["gbps"] > 2 * shaped, f"{l['src_host']}->{l['dst_host']} (held at 4x node2's rate) only {l['gbps']:.3f} GB/s"
assert len(ratios) == 6, ratios
assert float(sys.argv[2]) < 120, f"sweep took {sys.argv[2]} s"
print("ok: node2 named by " + ", ".join(sorted({f['id'] for f in bad})) +
      "; measured/shaped ratios " + " ".join(f"{x:.3f}" for x in sorted(ratios)))
PY
