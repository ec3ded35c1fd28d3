#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench -g 4 (nccl-tests' flag): one process, no mpiexec, drives the stand-in's 4 devices, one
# thread and communicator rank each. Forced ring, forced tree and NCCL's own choice each get 4
# communicators (one per device, NCCL_ALGO as set at init), every row is data-checked (#wrong
# 0) and carries nccl-tests' statistic beside ours; an init failure on one device ends every
# device's init promptly; -g 8 with 4 devices is one error line and exit 3; without a device
# --backend nccl is exit 3 and auto falls back to the host backend with a note.
source "$(dirname "$0")/common.bash"
unset OMPI_COMM_WORLD_SIZE OMPI_COMM_WORLD_RANK PMI_RANK PMI_SIZE PMIX_RANK SLURM_PROCID 2>/dev/null
fail=0
NCCL_ALGO=Ring timeout 120 "$bin" bench --backend nccl -g 4 --expected-busbw 0.0001 --algo ring,tree,native \
  --op allreduce,allgather,sendrecv -b 4K -e 64K -f 4 -n 3 -w 1 -c 2 --timeout 60 --json "$tmp/r.json" \
  > "$tmp/out" 2> "$tmp/err" < /dev/null
rc=$?
[[ $rc -eq 0 || $rc -eq 1 ]] || { echo "FAIL: exit $rc"; cat "$tmp/out" "$tmp/err"; exit 1; }
python3 - "$tmp/r.json" "$tmp/trace" "$tmp/out" <<'PY' || { cat "$tmp/out" "$tmp/err"; fail=1; }
import json, sys, collections, re
r = json.load(open(sys.argv[1]))
rows = r["measurements"]["collectives"]
got = collections.Counter((c["op"], c["algo"]) for c in rows)
want = {("allreduce", "ring"): 3, ("allreduce", "tree"): 3, ("allreduce", "native"): 3,
        ("allgather", "ring"): 3, ("allgather", "native"): 3, ("sendrecv", "native"): 3}
assert dict(got) == want, dict(got)
assert all(c["backend"] == "nccl" and c["nranks"] == 4 and c["wrong"] == 0 and c["time_us"] > 0 for c in rows), rows
# nccl-tests' statistic beside ours, with its busbw from its own time.
for c in rows:
    t = c["nccltests_avg_time_us"]
    assert t and t > 0 and c["nccltests_busbw_gbps"] > 0, c
    assert abs(c["nccltests_busbw_gbps"] / c["nccltests_algbw_gbps"] - c["busbw_gbps"] / c["algbw_gbps"]) < 1e-9, c
    assert abs(c["nccltests_algbw_gbps"] - c["bytes"] / t / 1e3) <= 1e-6 * c["nccltests_algbw_gbps"], c
assert r["sections"]["bench"]["nranks"] == 4 and len(r["sections"]["bench"]["wrong_per_rank"][0]) == 4
assert not [f for f in r["findings"] if f["id"] in ("bench.data_corrupt", "bench.timeout", "gpu.duplicate")], r["findings"]
assert any(n.startswith("-g 4: one process drives GPUs 0-3") for n in r["notes"]), r["notes"]
inits = [dict(kv.split("=", 1) for kv in l.split()[1:]) for l in open(sys.argv[2]) if l.startswith("init ")]
# 4 per algorithm, one per device, each with NCCL_ALGO as it was at its own init (native = the
# user's NCCL_ALGO=Ring): the threads share one environment and none saw another's setting.
by_algo = collections.defaultdict(list)
for i in inits:
    assert i["nranks"] == "4" and i["blocking"] == "0", i
    by_algo[i["algo"]].append((int(i["rank"]), int(i["device"])))
assert sorted(by_algo) == ["Ring", "Tree"] and len(by_algo["Ring"]) == 8, dict(by_algo)
assert sorted(by_algo["Tree"]) == [(0, 0), (1, 1), (2, 2), (3, 3)], dict(by_algo)
# The text table: nccl-tests' time and busbw in the last two columns, labelled.
text = open(sys.argv[3]).read()
assert "nccl-tests: mean" in text and "4 rank(s) on 1 host(s)" in text, text[:800]
assert "-g 4: 4 GPUs in this process" in text, text[:800]
print(f"ok: -g 4: {len(rows)} rows, #wrong 0, inits {dict((k, len(v)) for k, v in by_algo.items())}")
PY

# An init failure on device 1 (Tree only): its abort ends the other devices' inits at once.
t0=$(now)
NCD_STANDIN_INIT_FAIL_RANK=1 NCD_STANDIN_INIT_FAIL_ALGO=Tree timeout 200 "$bin" bench --backend nccl -g 4 \
  --expected-busbw 0.0001 --algo ring,tree,native --op allreduce -b 4K -e 4K -n 2 -w 1 -c 1 --timeout 120 \
  --json "$tmp/r2.json" > "$tmp/out2" 2>&1 < /dev/null
rc=$?
t1=$(now)
python3 - "$tmp/r2.json" "$t0" "$t1" "$rc" <<'PY' || { cat "$tmp/out2"; fail=1; }
import json, sys
r = json.load(open(sys.argv[1]))
took, rc = float(sys.argv[3]) - float(sys.argv[2]), int(sys.argv[4])
assert rc in (0, 1) and took < 60, (rc, took)
assert sorted(c["algo"] for c in r["measurements"]["collectives"]) == ["native", "ring"], r["measurements"]
notes = [n for n in r["notes"] if "NCCL_ALGO=Tree" in n]
assert notes and "rank 1" in notes[0], r["notes"]
print(f"ok: -g 4 init failure on GPU 1 handled in {took:.1f} s: {notes[0]}")
PY

# More GPUs than visible: one line, exit 3.
timeout 60 "$bin" bench --backend nccl -g 8 -b 4K -e 4K -n 1 > "$tmp/o" 2> "$tmp/e" < /dev/null
rc=$?
if [[ $rc -ne 3 || $(grep -c . "$tmp/e") -ne 1 ]] || ! grep -q -- "-g 8: only 4 GPU(s) visible" "$tmp/e"; then
  echo "FAIL: -g 8 with 4 devices: exit $rc"; cat "$tmp/e"; fail=1
else
  echo "ok: -g 8 with 4 devices: exit 3: $(cat "$tmp/e")"
fi
# No device: --backend nccl is one line, exit 3; auto measures the host backend and says -g was not used.
NCD_STANDIN_GPUS=0 timeout 60 "$bin" bench --backend nccl -g 4 -b 4K -e 4K -n 1 > "$tmp/o" 2> "$tmp/e" < /dev/null
rc=$?
if [[ $rc -ne 3 || $(grep -c . "$tmp/e") -ne 1 ]] || ! grep -q "no GPU" "$tmp/e"; then
  echo "FAIL: -g 4 without a device: exit $rc"; cat "$tmp/e"; fail=1
else
  echo "ok: -g 4 --backend nccl without a device: exit 3: $(cat "$tmp/e")"
fi
NCD_STANDIN_GPUS=0 timeout 120 "$bin" bench -g 4 --algo native -b 4K -e 4K -n 1 -w 0 --json "$tmp/r3.json" \
  > "$tmp/o" 2> "$tmp/e" < /dev/null
rc=$?
python3 - "$tmp/r3.json" "$rc" <<'PY' || { cat "$tmp/o" "$tmp/e"; fail=1; }
import json, sys
r = json.load(open(sys.argv[1]))
assert r["sections"]["bench"]["backend"] == "mpi", r["sections"]["bench"]
assert any("-g 4 not used" in n for n in r["notes"]), r["notes"]
print(f"ok: -g 4 without a device (auto): host backend, exit {sys.argv[2]}, note: {r['notes'][0]}")
PY
exit $fail
