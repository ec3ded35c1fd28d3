#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# node3's link cut (silent drop, no reset) a few seconds into a sweep that would otherwise run
# long (--repeat): `links` reports link.unresponsive naming node3, writes the JSON report with
# what was measured, and ends within its --timeout plus a margin.
source "$(dirname "$0")/lib.sh" "$1" "$2"
timeout_s=20
margin_s=10
e2e_up 4
t0=$(now)
"$E2E_SIM" run 4 -- "$E2E_BIN" links --size 8M --timeout "$timeout_s" --repeat 100000 \
  --json "$E2E_TMP/r.json" > "$E2E_TMP/out.txt" 2>&1 &
job=$!
sleep 3
"$E2E_SIM" cut node3 >/dev/null || { echo "FAIL: cut"; exit 1; }
tc=$(now)
limit=$(python3 -c "print($timeout_s + $margin_s)")
while [[ ! -s $E2E_TMP/r.json ]]; do
  if [[ $(elapsed "$t0" "$(now)" | cut -d. -f1) -ge $limit ]]; then
    echo "FAIL: no report $limit s after the start"; cat "$E2E_TMP/out.txt"; exit 1
  fi
  kill -0 "$job" 2>/dev/null || [[ -s $E2E_TMP/r.json ]] || { echo "FAIL: the job ended without a report"; cat "$E2E_TMP/out.txt"; exit 1; }
  sleep 0.1
done
tr=$(now)
# Rank 0 wrote the report and aborted the job. mpirun itself may keep waiting for node3's
# daemon, which it cannot reach (TCP retransmits for minutes, as on a real cluster): give it a
# moment, then bring the link back so it can finish, as an operator would.
ended=""
for _ in $(seq 50); do kill -0 "$job" 2>/dev/null || { ended=$(now); break; }; sleep 0.1; done
healed=""
if [[ -z $ended ]]; then
  "$E2E_SIM" heal node3 >/dev/null; healed=$(now)
  for _ in $(seq 300); do kill -0 "$job" 2>/dev/null || { ended=$(now); break; }; sleep 0.1; done
fi
wait "$job" 2>/dev/null
cat "$E2E_TMP/out.txt" | grep -v '^\s*$' | head -60
echo "cut at $(elapsed "$t0" "$tc") s into the run; report written $(elapsed "$tc" "$tr") s after the cut" \
     "($(elapsed "$t0" "$tr") s after the start, --timeout $timeout_s)"
if [[ -n $ended && -z $healed ]]; then echo "mpirun ended $(elapsed "$tc" "$ended") s after the cut";
elif [[ -n $ended ]]; then echo "mpirun ended $(elapsed "$healed" "$ended") s after the link was healed (it waits for node3's daemon)";
else echo "mpirun still waiting for node3's daemon: killed by sim-cluster down"; fi
python3 - "$E2E_TMP/r.json" "$(elapsed "$t0" "$tr")" "$limit" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
un = [f for f in r["findings"] if f["id"] == "link.unresponsive"]
assert un, f"no link.unresponsive: {[(f['id'], f['subject']) for f in r['findings']]}"
assert any("node3" in f["subject"] and "node3" in f["host"] for f in un), un
assert all("node3" in f["subject"] for f in un), f"a pair without node3 reported: {un}"
others = [f for f in r["findings"] if f["id"] != "link.unresponsive" and f["severity"] != "info"]
assert not others, f"other findings: {[(f['id'], f['subject']) for f in others]}"
assert r["summary"]["exit_code"] == 2, r["summary"]
assert r["measurements"]["links"], "the report lost what was measured before the cut"
assert float(sys.argv[2]) <= float(sys.argv[3]), f"report after {sys.argv[2]} s > {sys.argv[3]} s"
print(f"ok: {un[0]['subject']} unresponsive ({un[0]['host']} blamed), "
      f"{len(r['measurements']['links'])} links kept, report after {sys.argv[2]} s")
PY
