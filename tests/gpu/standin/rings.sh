#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Live `rings` on the stand-in, 4 ranks: the capture sets NCCL_TOPO_DUMP_FILE, NCCL_GRAPH_DUMP_FILE
# and an INFO log per rank, initialises one communicator, runs one allreduce and brings the
# files back. The stand-in "dumps" the Azure NC A100 v4 topology and graph (4 GPUs), so the
# analysis must show its 4-GPU ring. Then `sweep`'s bench after the capture: its NCCL
# communicators must not see the capture's NCCL_TOPO_DUMP_FILE any more (environment restored).
source "$(dirname "$0")/common.bash"
src=$(cd "$(dirname "$0")/../../.." && pwd)
export NCD_STANDIN_TOPO_XML=$src/topology/rings/azure-ncv4-a100-pcie.xml
export NCD_STANDIN_GRAPH_XML=$src/topology/rings/azure-ncv4-a100-pcie-graph.xml
timeout 120 "${mpiexec[@]}" -n 4 "$bin" rings --format json --timeout 60 > "$tmp/r.json" 2> "$tmp/err"
rc=$?
[[ $rc -le 2 ]] || { echo "FAIL: exit $rc"; cat "$tmp/err"; exit 1; }
python3 - "$tmp/r.json" "$tmp/trace" <<'PY' || { cat "$tmp/err"; exit 1; }
import json, sys
r = json.load(open(sys.argv[1]))
hosts = r["sections"]["rings"]
assert len(hosts) == 1, (hosts, r.get("notes"))
ring = [g for g in hosts[0]["graphs"] if g["kind"] == "ring"]
assert ring and len(ring[0]["channels"][0]["gpus"]) == 4, hosts[0]
assert not [n for n in r.get("notes", []) if "did not report" in n or "wrote no" in n], r["notes"]
inits = [l for l in open(sys.argv[2]) if l.startswith("init ")]
assert len(inits) == 4 and all("topo_dump=-" not in l for l in inits), inits
colls = [l for l in open(sys.argv[2]) if l.startswith("coll ")]
assert len(colls) == 4 and all("op=allreduce bytes=1048576" in l for l in colls), colls
print("ok: rings: %d ring channel(s) of 4 GPUs, %d finding(s)" % (ring[0]["nchannels"], len(r["findings"])))
PY
