#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Checks a Grafana dashboard against Prometheus textfiles that nccl-doctor really wrote: every
# metric a PromQL expression (panel targets, template queries) names is in the textfiles, every
# label a selector matches on or an aggregation groups by is a label those metrics carry, and
# nothing but nccl_doctor_* metrics is queried.
#   check_dashboard.py DASHBOARD.json TEXTFILE...
import json
import re
import sys

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
            "offset", "inf", "nan",
            # aggregation operators, which may be followed by `by (...)` before their argument
            "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
            "quantile"}
IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def fail(msg):
    sys.exit(f"check_dashboard: {msg}")


def textfile_labels(paths):
    """metric name -> set of label names, from exposition-format files."""
    out = {}
    for path in paths:
        for line in open(path):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            m = IDENT.match(line)
            labels = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', line[m.end():].split("} ")[0]))
            out.setdefault(m.group(0), set()).update(labels)
    return out


def expressions(node, where="dashboard"):
    """Every PromQL string: targets[].expr and template variables' queries."""
    if isinstance(node, dict):
        for k, v in node.items():
            here = f"{where}.{k}"
            if k == "expr" and isinstance(v, str):
                yield here, v
            elif k in ("query", "definition") and isinstance(v, str) and "label_values" in v:
                yield here, v
            else:
                yield from expressions(v, here)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from expressions(v, f"{where}[{i}]")


def parse(expr):
    """(metrics with their matcher labels, grouping labels) of one PromQL expression."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals out of the way
    s = re.sub(r"\[[^\]]*\]", "", s)                # range selectors
    s = s.replace("$host", "x").replace("${host}", "x")
    metrics, groups = [], set()
    i = 0
    while i < len(s):
        m = IDENT.match(s, i)
        if not m or (i > 0 and (s[i - 1].isalnum() or s[i - 1] in "_.")):
            i += 1
            continue
        word, j = m.group(0), m.end()
        rest = s[j:].lstrip()
        if word in ("by", "without", "on", "ignoring") and rest.startswith("("):
            close = s.index(")", j)
            groups.update(x.strip() for x in s[s.index("(", j) + 1:close].split(",") if x.strip())
            i = close + 1
            continue
        if rest.startswith("(") or word.lower() in KEYWORDS or re.fullmatch(r"[0-9].*", word):
            i = j  # a function or keyword
            continue
        labels = set()
        if rest.startswith("{"):
            open_at = s.index("{", j)
            close = s.index("}", open_at)
            labels = set(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", s[open_at + 1:close]))
            j = close + 1
        metrics.append((word, labels))
        i = j
    return metrics, groups


def main():
    if len(sys.argv) < 3:
        fail("usage: check_dashboard.py DASHBOARD.json TEXTFILE...")
    dash = json.load(open(sys.argv[1]))
    emitted = textfile_labels(sys.argv[2:])
    if not emitted:
        fail("the textfiles hold no samples")
    if not dash.get("panels"):
        fail("no panels")
    for p in dash["panels"]:
        if not p.get("targets") or not p.get("title"):
            fail(f"panel {p.get('id')} has no title or no targets")
    used, n = set(), 0
    for where, expr in expressions(dash):
        n += 1
        inner = re.search(r"label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)", expr)
        if inner:
            metrics, groups = [(inner.group(1), set())], {inner.group(2)}
        else:
            metrics, groups = parse(expr)
        if not metrics:
            fail(f"{where}: no metric in {expr!r}")
        carried = set()
        for name, labels in metrics:
            if not name.startswith("nccl_doctor_"):
                fail(f"{where}: {name} is not an nccl-doctor metric ({expr!r})")
            if name not in emitted:
                fail(f"{where}: {name} is not in the textfiles nccl-doctor wrote ({expr!r})")
            missing = labels - emitted[name]
            if missing:
                fail(f"{where}: {name} has no label {sorted(missing)} (it has {sorted(emitted[name])})")
            carried |= emitted[name]
            used.add(name)
        if groups - carried:
            fail(f"{where}: grouping by {sorted(groups - carried)}, which no metric of {expr!r} carries")
    print(f"dashboard ok: {n} expressions over {len(used)} metrics, all emitted: {', '.join(sorted(used))}")


if __name__ == "__main__":
    main()
