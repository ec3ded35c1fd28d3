#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A rank that stalls: rank 2's host thread hangs inside its first collective (a wedged GPU), its
# peers' collectives never complete. bench must abort the communicators at the deadline and
# name rank 2 in bench.timeout by the deadline: the report's own duration (rank 0's clock, from
# start to the report) is at most the deadline plus 2 s for writing it; the whole job, launcher
# start-up and teardown included, within a looser margin the test does not control. rings (the
# live capture) must come back as well (abort before any synchronising free), by the deadline
# too, and say rank 2 did not report.
source "$(dirname "$0")/common.bash"
deadline=10
margin=40
fail=0
t0=$(now)
NCD_STANDIN_STALL_RANK=2 timeout 150 "${mpiexec[@]}" -n 4 "$bin" bench --backend nccl --algo ring --op allreduce \
  -b 4K -e 4K -n 3 -w 1 -c 1 --timeout $deadline --json "$tmp/r.json" > "$tmp/out" 2>&1
rc=$?
t1=$(now)
python3 - "$tmp/r.json" "$t0" "$t1" "$deadline" "$margin" "$rc" <<'PY' || { fail=1; tail -30 "$tmp/out"; }
import json, sys
path, t0, t1, deadline, margin, rc = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
assert rc != 124, "bench: the job hung"
took = t1 - t0
assert took < deadline + margin, f"bench: took {took:.1f} s (deadline {deadline} s)"
r = json.load(open(path))
assert r["duration_s"] <= deadline + 2, f"bench: the report came {r['duration_s']:.1f} s after start (deadline {deadline} s)"
f = [x for x in r["findings"] if x["id"] == "bench.timeout"]
assert f, ("no bench.timeout", [x["id"] for x in r["findings"]], r.get("notes"))
import re
assert re.fullmatch(r"ranks? 2", f[0]["subject"]), f[0]["subject"]  # rank 2 alone, not the peers it held up
print(f"ok: bench named {f[0]['subject']!r} in its report at {r['duration_s']:.1f} s (deadline {deadline:.0f} s); "
      f"the job ended after {took:.1f} s, exit {rc}")
PY
t0=$(now)
NCD_STANDIN_STALL_RANK=2 timeout 150 "${mpiexec[@]}" -n 4 "$bin" rings --format json --timeout $deadline \
  > "$tmp/rings.json" 2> "$tmp/rings.err"
rc=$?
t1=$(now)
python3 - "$tmp/rings.json" "$t0" "$t1" "$deadline" "$margin" "$rc" <<'PY' || { fail=1; tail -30 "$tmp/rings.err"; }
import json, sys
path, t0, t1, deadline, margin, rc = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
assert rc != 124, "rings: the job hung (a synchronising free before the abort?)"
took = t1 - t0
assert took < deadline + margin, f"rings: took {took:.1f} s (deadline {deadline} s)"
r = json.load(open(path))
assert r["duration_s"] <= deadline + 2, f"rings: the report came {r['duration_s']:.1f} s after start (deadline {deadline} s)"
text = json.dumps(r.get("notes", [])) + json.dumps(r.get("findings", []))
assert "rank(s) 2 did not report" in text, text
print(f"ok: rings named rank 2 in its report at {r['duration_s']:.1f} s; the job ended after {took:.1f} s, exit {rc}")
PY
exit $fail
