#!/usr/bin/env bash
# env under mpiexec -n 4: healthy when all ranks agree; names exactly the rank whose
# NCCL_IB_DISABLE differs (MPMD launch), under env.mismatch and env.risky, exit 1 or 2.
set -u
bin=$1; shift
mpiexec=("$@")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
unset NCCL_IB_DISABLE

"${mpiexec[@]}" -n 4 "$bin" env --json "$tmp/ok.json" > "$tmp/ok.txt" 2>&1
rc=$?
[[ $rc -eq 0 ]] || { echo "healthy env: exit $rc"; cat "$tmp/ok.txt"; exit 1; }
grep -q "ranks 0-3 on" "$tmp/ok.txt" || { echo "no grouped summary"; cat "$tmp/ok.txt"; exit 1; }

"${mpiexec[@]}" -n 3 "$bin" env --json "$tmp/bad.json" : -n 1 env NCCL_IB_DISABLE=1 "$bin" env --json "$tmp/bad.json" > "$tmp/bad.txt" 2>&1
rc=$?
[[ $rc -eq 1 || $rc -eq 2 ]] || { echo "mismatch: exit $rc, expected 1 or 2"; cat "$tmp/bad.txt"; exit 1; }
python3 - "$tmp/bad.json" <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1]))
ids = {}
for f in r["findings"]:
    ids.setdefault(f["id"], []).append(f)
for want in ("env.mismatch", "env.risky"):
    assert want in ids, f"missing {want}: {[f['id'] for f in r['findings']]}"
    assert len(ids[want]) == 1, f"{want} reported {len(ids[want])} times"
    assert ids[want][0]["subject"] == "ranks 3", ids[want][0]["subject"]
assert r["summary"]["exit_code"] in (1, 2)
assert all(f["id"] in ("env.mismatch", "env.risky") for f in r["findings"]), r["findings"]
print("ok: rank 3 named under env.mismatch and env.risky")
PY
