#!/usr/bin/env python3
# Validates report files written by nccl-doctor: --json (schema, contract fields, exit code),
# --prom (exposition format, line by line), --junit (XML, counts), --html (self-contained, SVG).
# Usage: check_reports.py [--exit-code N] [--json F] [--prom F] [--junit F] [--html F]
import argparse
import json
import re
import sys
import xml.etree.ElementTree as ET

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')


def fail(msg):
    sys.exit(f"check_reports: {msg}")


def check_json(path, code):
    r = json.load(open(path))
    if r.get("schema") != "nccl-doctor/report/v2":
        fail(f"{path}: schema {r.get('schema')!r}")
    for k in ("tool", "command", "started", "duration_s", "hosts", "measurements", "findings", "summary",
              "checks", "stages"):
        if k not in r:
            fail(f"{path}: no {k}")
    for c in r["checks"]:
        if set(c) != {"id", "status", "subjects", "reason"}:
            fail(f"{path}: check outcome with fields {sorted(c)}")
        if c["status"] not in ("evaluated", "not_applicable", "could_not_run", "excluded"):
            fail(f"{path}: check {c['id']} status {c['status']!r}")
        if c["status"] == "evaluated" and (c["subjects"] < 1 or c["reason"] is not None):
            fail(f"{path}: evaluated check {c['id']} with {c['subjects']} subjects, reason {c['reason']!r}")
        if c["status"] != "evaluated" and not c["reason"]:
            fail(f"{path}: check {c['id']} {c['status']} without a reason")
    if any(c["status"] == "could_not_run" for c in r["checks"]) and not r["summary"]["incomplete"]:
        fail(f"{path}: a check could not run but summary.incomplete is false")
    for st in r["stages"]:
        if st["status"] not in ("ran", "not_applicable", "skipped", "excluded"):
            fail(f"{path}: stage {st['name']} status {st['status']!r}")
        if st["status"] == "skipped" and not r["summary"]["incomplete"]:
            fail(f"{path}: stage {st['name']} skipped but summary.incomplete is false")
    if r["summary"]["incomplete"] and r["summary"]["exit_code"] not in (2, 3):
        fail(f"{path}: incomplete but exit {r['summary']['exit_code']}")
    for f in r["findings"]:
        for k in ("id", "severity", "host", "subject", "message", "evidence", "expected", "measured", "hint"):
            if k not in f:
                fail(f"{path}: finding without {k}: {f}")
    for c in r["measurements"]["collectives"]:
        for k in ("op", "algo", "backend", "dtype", "bytes", "count", "time_us", "algbw_gbps", "busbw_gbps", "wrong", "nranks"):
            if k not in c:
                fail(f"{path}: collective without {k}")
    for l in r["measurements"]["links"]:
        for k in ("src_host", "dst_host", "src_rank", "dst_rank", "bytes", "gbps", "latency_us", "class"):
            if k not in l:
                fail(f"{path}: link without {k}")
    s = r["summary"]
    counts = {"info": 0, "warn": 0, "error": 0}
    for f in r["findings"]:
        counts[f["severity"]] += 1
    for k, v in counts.items():
        if s[k] != v:
            fail(f"{path}: summary.{k} = {s[k]}, findings say {v}")
    if code is not None and s["exit_code"] != code:
        fail(f"{path}: summary.exit_code {s['exit_code']} but the process exited {code}")
    return r


# The label names nccl-doctor's textfiles may use (bounded sets: no free text, no ranks).
PROM_LABELS = {"version", "command", "nccl_backend", "severity", "id", "status", "stage", "host", "op", "algo",
               "backend", "dtype", "bytes", "gpu", "class", "src", "dst"}


def check_prom(path, part=False):
    text = sys.stdin.read() if path == "-" else open(path).read()
    if not text.endswith("\n"):
        fail(f"{path}: no final newline")
    typed, seen, closed, current, fams = set(), set(), set(), None, {}
    helped = set()
    for n, line in enumerate(text.splitlines(), 1):
        where = f"{path}:{n}: {line[:120]}"
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                if not NAME.fullmatch(parts[2]):
                    fail(f"{where}: bad name")
                if parts[1] == "HELP":
                    if len(parts) < 4 or not parts[3].strip():
                        fail(f"{where}: HELP without text")
                    helped.add(parts[2])
                if parts[1] == "TYPE":
                    if parts[2] not in helped:
                        fail(f"{where}: TYPE before (or without) its HELP")
                    if len(parts) < 4 or parts[3] not in ("gauge", "counter", "untyped", "summary", "histogram"):
                        fail(f"{where}: bad type")
                    if parts[2] in typed or parts[2] in fams:
                        fail(f"{where}: TYPE repeated or after samples")
                    typed.add(parts[2])
                if parts[2] != current:
                    if current:
                        closed.add(current)
                    current = parts[2]
            continue
        m = NAME.match(line)
        if not m:
            fail(f"{where}: bad sample")
        name, rest = m.group(0), line[m.end():]
        labels = ()
        if rest.startswith("{"):
            end = rest.find("}")
            body = rest[1:end] if end >= 0 else None
            while end >= 0:  # a "}" inside a label value
                if len(LABEL.findall(rest[1:end])) and re.fullmatch(r'(%s,?)*' % LABEL.pattern, rest[1:end]):
                    break
                end = rest.find("}", end + 1)
            if end < 0:
                fail(f"{where}: bad label set")
            body = rest[1:end]
            if not re.fullmatch(r"(%s,?)*" % LABEL.pattern, body):
                fail(f"{where}: bad labels")
            labels = tuple(LABEL.findall(body))
            if len({k for k, _ in labels}) != len(labels):
                fail(f"{where}: duplicate label")
            rest = rest[end + 1:]
        if not rest.startswith(" ") or " " in rest[1:]:
            fail(f"{where}: expected one value without a timestamp")
        value = rest[1:]
        if value not in ("NaN", "+Inf", "-Inf"):
            try:
                float(value)
            except ValueError:
                fail(f"{where}: bad value")
        if name not in typed:
            fail(f"{where}: sample before TYPE")
        if name in closed:
            fail(f"{where}: family not contiguous")
        if name != current:
            current = name
        key = (name, labels)
        if key in seen:
            fail(f"{where}: duplicate series")
        seen.add(key)
        fams.setdefault(name, []).append((dict(labels), float(value) if value not in ("NaN", "+Inf", "-Inf") else 0))
        if not name.startswith("nccl_doctor_"):
            fail(f"{where}: metric outside nccl_doctor_")
        # Base units (bytes per second, seconds, bytes), bounded labels, no sentinels.
        if re.search(r"_(gbps|gb|mb|us|ms)(_|$)", name):
            fail(f"{where}: not in base units")
        for k, v in labels:
            if k not in PROM_LABELS:
                fail(f"{where}: label {k} is not one of the bounded label names")
            if k == "bytes" and not (v.isdigit() and 1024 <= int(v) <= 1 << 34 and int(v) & (int(v) - 1) == 0):
                fail(f"{where}: bytes={v} is not in the fixed list of sizes")
        if name != "nccl_doctor_exit_code" and value not in ("NaN", "+Inf", "-Inf") and float(value) < 0:
            fail(f"{where}: a negative (sentinel) value")
    for need in ("nccl_doctor_last_run_timestamp_seconds", "nccl_doctor_exit_code"):
        if need not in fams and not part:
            fail(f"{path}: no {need}")
    return fams


def check_junit(path, r):
    root = ET.parse(path).getroot()
    if root.tag != "testsuites":
        fail(f"{path}: root is {root.tag}")
    tests = failures = 0
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        f = sum(1 for c in cases if c.find("failure") is not None)
        if int(suite.get("tests")) != len(cases) or int(suite.get("failures")) != f:
            fail(f"{path}: counts of {suite.get('name')} are wrong")
        tests += len(cases)
        failures += f
    if int(root.get("tests")) != tests or int(root.get("failures")) != failures:
        fail(f"{path}: total counts are wrong")
    if r is not None:
        bad = [f for f in r["findings"] if f["severity"] != "info"]
        if bad and failures == 0:
            fail(f"{path}: {len(bad)} warn/error findings but no failure")
        if not bad and failures:
            fail(f"{path}: failures without warn/error findings")
        # A passing testcase is a check that was evaluated; everything else is <skipped>.
        status = {c["id"]: c["status"] for c in r.get("checks", [])}
        for suite in root.findall("testsuite"):
            for case in suite.findall("testcase"):
                if case.find("failure") is not None or case.find("skipped") is not None or case.find("error") is not None:
                    continue
                cid = case.get("name")
                if status and cid != "completed" and status.get(cid) != "evaluated":
                    fail(f"{path}: {cid} passes but the check was {status.get(cid, 'not recorded')}")
            if suite.get("time") is None:
                fail(f"{path}: suite {suite.get('name')} without time")
    return tests, failures


def check_html(path, need_svg):
    h = open(path, encoding="utf-8").read()
    if not h.startswith("<!DOCTYPE html>") or "</html>" not in h:
        fail(f"{path}: not a whole HTML document")
    if re.search(r"<script|<iframe|<img |@import|url\(", h):
        fail(f"{path}: external content")
    if "http://" in h.replace('xmlns="http://www.w3.org/2000/svg"', "") or "https://" in h:
        fail(f"{path}: a network address")
    n = h.count("<svg")
    if n < need_svg:
        fail(f"{path}: {n} <svg> elements, expected at least {need_svg}")
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exit-code", type=int)
    ap.add_argument("--json")
    ap.add_argument("--prom")
    ap.add_argument("--prom-part", action="store_true",
                    help="a --prom-dir file of a node other than rank 0's: no job-wide series required")
    ap.add_argument("--junit")
    ap.add_argument("--html")
    ap.add_argument("--html-svg", type=int, default=1)
    a = ap.parse_args()
    r = check_json(a.json, a.exit_code) if a.json else None
    out = []
    if r is not None:
        out.append(f"json ok ({len(r['findings'])} findings, {len(r['measurements']['collectives'])} rows, "
                   f"{len(r['measurements']['links'])} links)")
    if a.prom:
        fams = check_prom(a.prom, a.prom_part)
        if r is not None and not a.prom_part and fams["nccl_doctor_exit_code"][0][1] != r["summary"]["exit_code"]:
            fail(f"{a.prom}: exit code differs from the JSON")
        if r is not None and "nccl_doctor_findings" not in fams:
            fail(f"{a.prom}: no nccl_doctor_findings")
        if r is not None:
            status = {c["id"]: c["status"] for c in r.get("checks", [])}
            raised = {f["id"] for f in r["findings"]}
            for labels, value in fams.get("nccl_doctor_findings_by_id", []):
                if value == 0 and status.get(labels["id"]) != "evaluated" and labels["id"] not in raised:
                    fail(f"{a.prom}: findings_by_id 0 for {labels['id']}, which was {status.get(labels['id'])}")
            if status and "nccl_doctor_check_evaluated" not in fams:
                fail(f"{a.prom}: no nccl_doctor_check_evaluated")
            for labels, value in fams.get("nccl_doctor_collective_wrong_elements", []) + fams.get("nccl_doctor_link_bandwidth_bytes_per_second", []):
                if value < 0:
                    fail(f"{a.prom}: a sentinel value {value} ({labels})")
        out.append(f"prom ok ({sum(len(v) for v in fams.values())} samples)")
    if a.junit:
        t, f = check_junit(a.junit, r)
        out.append(f"junit ok ({t} testcases, {f} failures)")
    if a.html:
        out.append(f"html ok ({check_html(a.html, a.html_svg)} svg)")
    print("; ".join(out))


main()
