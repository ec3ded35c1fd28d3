#!/usr/bin/env bash
# Correctness of every op x algo x type x redop (x root) of the host backend against the exact
# reference, on 1 to 5 ranks, with 0-byte, 1-element, odd and non-divisible counts, each with
# tiny slices (many pipelined pieces) and default slices. Then a validator check: a rank that
# corrupts its output must be named under bench.data_corrupt.
set -u
bin=$1; shift
mpiexec=("$@")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for n in 1 2 3 4 5; do
  timeout 120 "${mpiexec[@]}" -n $n "$bin" bench --self-test --timeout 60 --json "$tmp/m$n.json" > "$tmp/m$n.txt" 2>&1
  rc=$?
  [[ $rc -eq 0 ]] || { echo "self-test on $n ranks: exit $rc"; cat "$tmp/m$n.txt"; exit 1; }
  python3 - "$tmp/m$n.json" $n <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1])); n = int(sys.argv[2])
st = r["sections"]["self_test"]
assert st["ranks"] == n and st["cases_per_rank"] > 1500, st
assert r["findings"] == [], r["findings"]
PY
  echo "ok: $n rank(s): $(head -1 "$tmp/m$n.txt")"
done
NCD_TEST_CORRUPT_RANK=2 timeout 120 "${mpiexec[@]}" -n 3 "$bin" bench --self-test --timeout 60 --json "$tmp/bad.json" > "$tmp/bad.txt" 2>&1
rc=$?
[[ $rc -eq 2 ]] || { echo "corrupted self-test: exit $rc, expected 2"; cat "$tmp/bad.txt"; exit 1; }
python3 - "$tmp/bad.json" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
f = [x for x in r["findings"] if x["id"] == "bench.data_corrupt"]
assert len(f) == 1 and f[0]["subject"] == "ranks 2", r["findings"]
print("ok: the corrupting rank is named:", f[0]["message"])
PY
