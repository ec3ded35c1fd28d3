#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A node cut during `sweep` (issue 18): `scripts/sim-cluster run 4 -- nccl-doctor sweep` ends
# within the sweep's deadline + 30 s WITHOUT healing the link (mpirun itself would wait for the
# cut node's daemon for minutes: scripts/ncd-bounded ends it), exits non-zero with the report's
# verdict, and the report names node3. --prom-dir: node0's textfile holds the job's verdict on
# every node (node3 judged although it wrote nothing); the other reachable nodes' files are
# written only when the job could still talk to them.
source "$(dirname "$0")/lib.sh" "$1" "$2"
here=$(cd "$(dirname "$0")" && pwd)
timeout_s=40
grace_s=30   # scripts/ncd-bounded's default (NCD_GRACE)
e2e_up 4
mkdir -p "$E2E_TMP/prom"
t0=$(now)
# Not --quick: the full sweep's stages run long enough for the cut to land inside one of them.
"$E2E_SIM" run 4 -- "$E2E_BIN" sweep --timeout "$timeout_s" --json "$E2E_TMP/r.json" \
  --prom-dir "$E2E_TMP/prom" > "$E2E_TMP/out.txt" 2>&1 &
job=$!
# Cut once the job is measuring (the stage lines on stderr say so), not before MPI started.
for _ in $(seq 300); do
  grep -q "sweep \[[0-9]*/[0-9]*\] \(bench\|links\): started" "$E2E_TMP/out.txt" 2>/dev/null && break
  kill -0 "$job" 2>/dev/null || break
  sleep 0.1
done
"$E2E_SIM" cut node3 >/dev/null || { echo "FAIL: cut"; exit 1; }
tc=$(now)
wait "$job"
rc=$?
t1=$(now)
took=$(elapsed "$t0" "$t1")
grep -v '^\s*$' "$E2E_TMP/out.txt" | tail -40
echo "cut at $(elapsed "$t0" "$tc") s; sim-cluster run ended $took s after the start (exit $rc)," \
     "bound: --timeout $timeout_s + $grace_s s"
ls -l "$E2E_TMP/prom"
python3 - "$E2E_TMP/r.json" "$rc" "$took" "$((timeout_s + grace_s))" "$E2E_TMP/prom" <<'PY' || exit 1
import json, os, re, sys
path, rc, took, limit, prom = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
assert took <= limit, f"the wrapper ended after {took} s, more than the deadline + grace ({limit} s)"
assert os.path.exists(path), "no report written"
r = json.load(open(path))
code = r["summary"]["exit_code"]
assert rc != 0, "a cut node and exit 0"
assert rc == code, f"the wrapper exited {rc}, the report says {code}"
bad = [f for f in r["findings"] if f["severity"] in ("warn", "error")]
named = [f for f in bad if "node3" in f["host"].split(",") or "node3" in f["subject"]]
assert named, "node3 not named: " + "; ".join(f"{f['id']} {f['host']} {f['subject']}" for f in bad)
# node0's textfile: the job-wide series, node3 judged.
p0 = os.path.join(prom, "nccl-doctor-node0.prom")
assert os.path.exists(p0), os.listdir(prom)
text = open(p0).read()
m = re.search(r'^nccl_doctor_host_verdict\{host="node3"\} (\S+)$', text, re.M)
assert m and float(m.group(1)) >= 1, "node0's textfile does not judge node3:\n" + text[:3000]
assert re.search(rf"^nccl_doctor_exit_code {code}$", text, re.M), "exit code in the textfile"
assert not os.path.exists(os.path.join(prom, "nccl-doctor-node3.prom")), "the cut node wrote a textfile"
print(f"ok: exit {rc} after {took} s (<= {limit}); node3 named by "
      + ", ".join(sorted({f['id'] for f in named})) + f"; textfiles: {sorted(os.listdir(prom))}")
PY
for f in "$E2E_TMP"/prom/*.prom; do python3 "$here/../tools/check_reports.py" --prom "$f" --prom-part >/dev/null || exit 1; done
echo PASS
