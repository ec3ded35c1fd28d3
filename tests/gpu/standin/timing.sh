#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The timing loop. Every stand-in collective takes exactly 1 ms on its stream (a busy-wait on
# CLOCK_MONOTONIC) and the stand-in records, per collective, its duration, how long its stream
# sat idle before it (the host had not queued it yet) and the host's gap between two collective
# calls. What the test controls, and asserts:
#  - the stream's own period per iteration (idle + collective; for the first timed iteration the
#    collective alone: the stream waited for the loop to begin, before our first event) is what
#    our events must bracket. nccl-tests' time (each rank's loop mean, averaged over ranks) must
#    be that statistic of the stand-in's periods within 10%: a sum over the loop, so load moves
#    both alike (the tight check). Ours (the median over iterations of the slowest rank) must be
#    that statistic of the periods within 10%, or half the spread of our own iterations where a
#    loaded box makes them scatter (a core lost between a collective's end and the next event
#    moves one iteration's time into the next, and the slowest-of-ranks median amplifies it);
#  - never below the collective itself (1 ms - 10%): an event that does not wait for the stream;
#  - no sleep floor: a sleeping poll between the collectives of the timed loop (the old 200 us
#    nanosleep) puts every host gap above 200 us; their 10th percentile must be below 150 us
#    (load only makes gaps longer, so a low percentile is robust to it).
# First, one process (one spinning stream, one polling host thread: what 2 cores hold): "1 ms
# +- 10%" is asserted, ours and nccl-tests' statistic alike, whenever the stand-in's own record
# shows its stream ran at the collective's pace (median period within 5% of 1 ms: nothing else
# took the cores). On a box so busy that it never did in 3 tries, the period is the reference.
# Then two ranks (each a spinning stream and a polling host thread, 4 busy threads on 2 cores:
# the period is longer than the collective, so the relative checks below).
# Retried up to 3 times for timing; correctness (one row, no wrong element) checked each time.
source "$(dirname "$0")/common.bash"
one_ms=1  # 0: asserted; 1: the box never let the stream keep pace; 2: paced but mistimed
for attempt in 1 2 3; do
  rm -f "$tmp/trace"
  NCD_STANDIN_COLL_US=1000 timeout 60 "$bin" bench --backend nccl --expected-busbw 0.0001 --algo native --op allreduce \
    -b 64K -e 64K -n 25 -w 3 -c 1 --timeout 50 --json "$tmp/one.json" > "$tmp/out" 2>&1
  rc=$?
  # One rank alone: nothing crosses a bus, so the verdict is INCOMPLETE (3); the rows are what count.
  [[ $rc -eq 3 || $rc -eq 0 ]] || { echo "FAIL: one rank: exit $rc"; cat "$tmp/out"; exit 1; }
  python3 - "$tmp/one.json" "$tmp/trace" "$attempt" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))
rows = r["measurements"]["collectives"]
assert len(rows) == 1 and rows[0]["wrong"] == 0, rows
recs = [dict(kv.split("=", 1) for kv in l.split()[1:]) for l in open(sys.argv[2]) if l.startswith("coll ")]
assert len(recs) == 29, len(recs)  # 3 warm-up + 25 timed + 1 check
timed = recs[3:28]
period = [float(x["us"]) + (max(0.0, float(x["idle"])) if i else 0.0) for i, x in enumerate(timed)]
# Ours is a median, nccl-tests' a mean: each is judged when the same statistic of the stand-in's
# own periods shows the stream kept a 1 ms pace (one slow period moves a mean, not a median).
med, mean = statistics.median(period), statistics.mean(period)
ours, nt = rows[0]["time_us"], rows[0]["nccltests_avg_time_us"]
paced_med, paced_mean = abs(med - 1000) <= 50, abs(mean - 1000) <= 50
ok_med, ok_mean = abs(ours - 1000) <= 100, abs(nt - 1000) <= 100
print(f"one rank, attempt {sys.argv[3]}: stream period median {med:.1f} us (paced: {paced_med}), mean {mean:.1f} us "
      f"(paced: {paced_mean}); ours (median) {ours:.1f} us, nccl-tests' mean {nt:.1f} us")
if (paced_med and not ok_med) or (paced_mean and not ok_mean):
    print("mistimed: the stream kept a 1 ms pace but the loop's time is not 1 ms +- 10%")
    sys.exit(4)
if paced_med and paced_mean:
    print("ok: a 1 ms stand-in collective is timed at 1 ms +- 10% (median and nccl-tests' mean)")
    sys.exit(0)
sys.exit(3)  # the box took the cores during this attempt: not what this phase controls
PY
  case $? in
    0) one_ms=0; break ;;
    3) ;;
    4) one_ms=2 ;;
    *) echo "FAIL: one rank"; cat "$tmp/out"; exit 1 ;;
  esac
done
[[ $one_ms -eq 2 ]] && { echo "FAIL: a 1 ms collective the stream ran at 1 ms was not timed at 1 ms +- 10%"; exit 1; }
[[ $one_ms -eq 1 ]] && echo "note: the box was too busy for the stream to keep a 1 ms pace in 3 tries; the two-rank checks below still hold"
fail=1
for attempt in 1 2 3; do
  rm -f "$tmp/trace"
  NCD_STANDIN_COLL_US=1000 timeout 120 "${mpiexec[@]}" -n 2 "$bin" bench --backend nccl --expected-busbw 0.0001 --algo native --op allreduce \
    -b 64K -e 64K -n 25 -w 3 -c 1 --timeout 60 --json "$tmp/r.json" > "$tmp/out" 2>&1
  rc=$?
  [[ $rc -eq 0 || $rc -eq 1 ]] || { echo "FAIL: exit $rc"; cat "$tmp/out"; exit 1; }
  python3 - "$tmp/r.json" "$tmp/trace" "$attempt" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))
rows = r["measurements"]["collectives"]
assert len(rows) == 1 and rows[0]["wrong"] == 0, rows   # correctness: never retried
recs = [dict(kv.split("=", 1) for kv in l.split()[1:]) for l in open(sys.argv[2]) if l.startswith("coll ")]
assert len(recs) == 2 * 29, len(recs)  # 2 ranks x (3 warm-up + 25 timed + 1 check)
per_rank = {}
for x in recs:
    per_rank.setdefault(x["rank"], []).append(x)
# The 25 timed collectives of each rank follow its 3 warm-ups (the check comes last).
timed = {k: xs[3:28] for k, xs in per_rank.items()}
us = [float(x["us"]) for xs in timed.values() for x in xs]
assert min(us) >= 1000, min(us)  # the stand-in keeps its promise
period = {k: [float(x["us"]) + (max(0.0, float(x["idle"])) if i else 0.0) for i, x in enumerate(xs)]
          for k, xs in timed.items()}
ref = statistics.median(max(p[i] for p in period.values()) for i in range(25))
ref_nt = statistics.mean(statistics.mean(p) for p in period.values())
gaps = sorted(float(x["host_gap"]) for xs in timed.values() for x in xs if float(x["host_gap"]) >= 0)
p10_gap = gaps[len(gaps) // 10]
ours, nt = rows[0]["time_us"], rows[0]["nccltests_avg_time_us"]
tol = max(0.10, rows[0]["spread"] / 2)
ok_ours = abs(ours - ref) <= tol * ref
ok_nt = abs(nt - ref_nt) <= 0.10 * ref_nt
not_below = min(ours, nt) >= 900
no_floor = p10_gap < 150
print(f"attempt {sys.argv[3]}: ours (median, slowest rank) {ours:.1f} us vs the stream's period {ref:.1f} us "
      f"({(ours / ref - 1) * 100:+.1f}%, tolerance {tol:.0%}): {ok_ours}; nccl-tests' mean {nt:.1f} us vs the "
      f"periods' mean {ref_nt:.1f} us ({(nt / ref_nt - 1) * 100:+.1f}%): {ok_nt}; not below 1 ms - 10%: {not_below}; "
      f"host gap p10 {p10_gap:.1f} us (no sleep floor): {no_floor}; collective median {statistics.median(us):.1f} us; "
      f"(1 ms +- 10% is the one-rank phase above)")
sys.exit(0 if ok_ours and ok_nt and not_below and no_floor else 3)
PY
  case $? in
    0) fail=0; break ;;
    3) ;;
    *) echo "FAIL: wrong result"; cat "$tmp/out"; exit 1 ;;
  esac
done
[[ $fail -eq 0 ]] || echo "FAIL: the timing loop does not measure the stand-in's 1 ms collective"
exit $fail
