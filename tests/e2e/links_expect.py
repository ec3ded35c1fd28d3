#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks a `links` JSON report of an e2e run: exactly the expected warn/error findings, nothing
else blamed; prints what was measured (ratios, noise, passes) for the test log.

  links_expect.py REPORT LABEL [--want ID:SUBJECT:SEVERITY]... [--info ID:TEXT]... [--median]
  --want   a warn/error finding that must be there (SUBJECT exact, e.g. "node2 (all links)")
  --info   an info finding with ID whose message contains TEXT
  --median print only the median bandwidth of the run's links (GB/s) and exit
  --incomplete  the run could not judge something (summary.incomplete, exit 3 unless errors)
"""
import json
import os
import statistics
import sys


def main(argv):
    path, label, rest = argv[1], argv[2], argv[3:]
    r = json.load(open(path))
    links = [l for l in r["measurements"]["links"] if l["ok"] and l["gbps"] > 0]
    if "--median" in rest:
        print(f"{statistics.median(l['gbps'] for l in links):.6f}")
        return 0
    want, info = [], []
    incomplete = "--incomplete" in rest
    rest = [a for a in rest if a != "--incomplete"]
    i = 0
    while i < len(rest):
        if rest[i] == "--want":
            want.append(tuple(rest[i + 1].split(":", 2)))
        elif rest[i] == "--info":
            info.append(tuple(rest[i + 1].split(":", 1)))
        i += 2
    sec = r["sections"]["links"]
    net = sec["classes"].get("net", {})
    bad = [f for f in r["findings"] if f["severity"] in ("warn", "error")]
    if os.getloadavg()[0] > os.cpu_count() and not any(w[0] == "link.latency_high" for w in want):
        # Shaping controls bandwidth, not the scheduling delay of an overloaded box: its
        # small-message latency findings are weather here, reported but not asserted.
        late = [(f["id"], f["subject"]) for f in bad if f["id"] == "link.latency_high"]
        if late:
            print(f"  note: machine overloaded (load {os.getloadavg()[0]:.1f}): not asserting {late}")
        bad = [f for f in bad if f["id"] != "link.latency_high"]
    got = sorted((f["id"], f["subject"], f["severity"]) for f in bad)
    desc = []
    for f in bad:
        ratio = f["measured"] / f["expected"] if f.get("expected") else float("nan")
        desc.append(f"{f['id']} {f['subject']} {f['severity']} ratio {ratio:.3f}")
    print(f"{label}: passes {sec.get('passes')}, {len(links)} links, typical {net.get('median_gbps', 0):.4f} GB/s, "
          f"noise {100 * net.get('noise', 0):.1f}% (repeat {100 * net.get('noise_repeat', 0):.1f}%), "
          f"link limit {net.get('link_limit_ratio', 0):.2f}, exit {r['summary']['exit_code']}; "
          f"findings: {desc or 'none'}")
    for n in r.get("notes", []):
        print(f"  note: {n}")
    ok = True
    if got != sorted(want):
        print(f"FAIL {label}: warn/error findings {got}, expected {sorted(want)}")
        for f in bad:
            print(f"  {f['id']} {f['subject']}: {f['message']}")
        ok = False
    for fid, text in info:
        hits = [f for f in r["findings"] if f["id"] == fid and text in f["message"]]
        if not hits:
            print(f"FAIL {label}: no {fid} finding saying '{text}': "
                  f"{[(f['id'], f['message']) for f in r['findings']]}")
            ok = False
        else:
            print(f"  {fid}: {hits[0]['message']}")
    expect_code = 2 if any(w[2] == "error" for w in want) else 3 if incomplete else 1 if want else 0
    if incomplete != bool(r["summary"].get("incomplete")):
        print(f"FAIL {label}: summary.incomplete {r['summary'].get('incomplete')}, expected {incomplete}")
        ok = False
    code = r["summary"]["exit_code"]
    tolerated = len(bad) < len([f for f in r["findings"] if f["severity"] in ("warn", "error")])
    if code != expect_code and not (tolerated and code == max(expect_code, 1)):
        print(f"FAIL {label}: exit code {r['summary']['exit_code']}, expected {expect_code}")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
