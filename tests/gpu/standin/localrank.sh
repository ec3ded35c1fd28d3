#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Which GPU a rank drives. (1) One-rank jobs side by side (srun --mpi=none, torchrun): the
# launcher's LOCAL_RANK picks the GPU, not "rank 0 of its job -> GPU 0". (2) More processes on
# the node than GPUs (LOCAL_WORLD_SIZE=6, 4 GPUs): gpu.duplicate. (3) 4 MPI ranks on 2 GPUs: ranks
# 0,2 and 1,3 share a GPU: gpu.duplicate names them (exit 2).
source "$(dirname "$0")/common.bash"
fail=0
LOCAL_RANK=3 LOCAL_WORLD_SIZE=4 timeout 60 "$bin" bench --backend nccl --op allreduce --algo native -b 4K -e 4K -n 1 -w 0 \
  --json "$tmp/a.json" > "$tmp/out" 2>&1
grep -q "^init .* device=3 " "$tmp/trace" && echo "ok: LOCAL_RANK=3 drives GPU 3" \
  || { echo "FAIL: LOCAL_RANK=3 did not pick GPU 3"; cat "$tmp/trace" "$tmp/out"; fail=1; }
LOCAL_RANK=5 LOCAL_WORLD_SIZE=6 timeout 60 "$bin" bench --backend nccl --op allreduce --algo native -b 4K -e 4K -n 1 -w 0 \
  --json "$tmp/b.json" > "$tmp/out" 2>&1
python3 - "$tmp/b.json" <<'PY' || { cat "$tmp/out"; fail=1; }
import json, sys
f = [x for x in json.load(open(sys.argv[1]))["findings"] if x["id"] == "gpu.duplicate"]
assert len(f) == 1 and "GPU1" in f[0]["subject"] and "LOCAL_RANK" in f[0]["message"], f
print("ok:", f[0]["message"])
PY
NCD_STANDIN_GPUS=2 timeout 120 "${mpiexec[@]}" -n 4 "$bin" bench --backend nccl --op allreduce --algo native -b 4K -e 4K \
  -n 1 -w 0 --json "$tmp/c.json" > "$tmp/out" 2>&1
rc=$?
python3 - "$tmp/c.json" "$rc" <<'PY' || { cat "$tmp/out"; fail=1; }
import json, sys
r = json.load(open(sys.argv[1]))
f = sorted(x["message"].split()[1] for x in r["findings"] if x["id"] == "gpu.duplicate")
assert f == ["0,2", "1,3"], [x["message"] for x in r["findings"]]
assert int(sys.argv[2]) == 2, sys.argv[2]
print("ok: 4 ranks on 2 GPUs: gpu.duplicate for ranks", f)
PY
exit $fail
