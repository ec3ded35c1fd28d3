#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# sweep --quick on 4 simulated nodes with node2's link shaped to 200 Mbit/s: the sweep finishes
# within its 2-minute promise, names node2 (node.slow or link.slow) and blames no other host,
# every report file is valid, and the HTML heatmap draws node2's links (shaped: a rate the test
# controls) in the slow colours. The colours of unshaped links depend on how busy the machine is,
# so they are not asserted here; the renderer's colour scale is tested on a fixed report
# (tests/unit/report_heatmap_test.cpp).
# NCD_E2E_ARTIFACTS=DIR keeps the reports and a chromium screenshot of the HTML there.
source "$(dirname "$0")/lib.sh" "$1" "$2"
here=$(cd "$(dirname "$0")" && pwd)
e2e_up 4
"$E2E_SIM" shape node2 200mbit >/dev/null || { echo "skip: tbf unavailable"; exit 77; }
# The other nodes are held at 800 Mbit/s: every rate in the test is one it sets (see
# links_shaped.sh), so a CPU-starved node0 on a busy box is not measured as slow.
for n in node0 node1 node3; do "$E2E_SIM" shape "$n" 800mbit >/dev/null || { echo "FAIL: shape $n"; exit 1; }; done
t0=$(now)
"$E2E_SIM" run 4 -- "$E2E_BIN" sweep --quick --json "$E2E_TMP/r.json" --html "$E2E_TMP/r.html" \
  --prom "$E2E_TMP/r.prom" --junit "$E2E_TMP/r.xml" > "$E2E_TMP/out.txt" 2>&1
rc=$?
t1=$(now)
took=$(elapsed "$t0" "$t1")
cat "$E2E_TMP/out.txt"
echo "sweep --quick on 4 nodes, node2 shaped: exit $rc in $took s (mpirun included)"
if [[ -n ${NCD_E2E_ARTIFACTS:-} ]]; then
  mkdir -p "$NCD_E2E_ARTIFACTS" && cp "$E2E_TMP"/r.* "$E2E_TMP/out.txt" "$NCD_E2E_ARTIFACTS/"
fi
[[ $rc -eq 1 || $rc -eq 2 ]] || { echo "FAIL: exit $rc, expected 1 or 2"; exit 1; }
python3 "$here/../tools/check_reports.py" --exit-code "$rc" --json "$E2E_TMP/r.json" --prom "$E2E_TMP/r.prom" \
  --junit "$E2E_TMP/r.xml" --html "$E2E_TMP/r.html" --html-svg 2 || exit 1
python3 - "$E2E_TMP/r.json" "$E2E_TMP/r.html" "$took" <<'PY' || exit 1
import json, re, sys, html
r = json.load(open(sys.argv[1]))
page = open(sys.argv[2]).read()
assert float(sys.argv[3]) < 120, f"the sweep took {sys.argv[3]} s"
bad = [f for f in r["findings"] if f["severity"] in ("warn", "error")]
named = [f for f in bad if f["id"] in ("node.slow", "link.slow") and "node2" in f["subject"]]
assert named, "node2 not named: " + "; ".join(f"{f['id']} {f['subject']}" for f in bad)
for f in bad:
    hosts = [h for h in f["host"].split(",") if h]
    # Job-wide bench findings name every host; anything that blames one host must blame node2.
    if len(hosts) == 1:
        assert hosts == ["node2"], f"blames {f['host']}: {f['id']} {f['message']}"
stages = {s["name"]: s["status"] for s in r["sections"]["stages"]}
assert stages["links"] == "ran", stages
# The heatmap: node2's cells (shaped to 25 MB/s, a small fraction of any unshaped link) are red.
cells = re.findall(r'<rect class="cell"[^>]*fill="#([0-9a-f]{6})"[^>]*><title>([^<]*)</title>', page)
slow, fast = [], []
for colour, title in cells:
    t = html.unescape(title)
    if "not measured" in t:
        continue
    rgb = tuple(int(colour[i:i + 2], 16) for i in (0, 2, 4))
    (slow if "node2" in t else fast).append((rgb, t))
assert slow and fast, cells[:4]
assert all(c[0] > c[1] for c, _ in slow), f"node2 cells not red: {slow}"
print(f"ok: node2 named by {sorted({f['id'] for f in named})}; {len(slow)} red cells for node2 "
      f"({len(fast)} other cells, colours not asserted); stages {stages}")
PY
browser=$(command -v chromium || true)
if [[ -n $browser && -n ${NCD_E2E_ARTIFACTS:-} ]]; then
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$E2E_TMP/profile" --window-size=1280,2400 \
    --screenshot="$NCD_E2E_ARTIFACTS/r.png" "file://$NCD_E2E_ARTIFACTS/r.html" > /dev/null 2>&1 &&
    echo "screenshot: $NCD_E2E_ARTIFACTS/r.png"
fi
exit 0
