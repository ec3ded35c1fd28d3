#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/sim-cluster itself: each node has its own hostname under `run`; `cut` drops silently
# (a connection attempt times out instead of being refused) and `heal` restores it; two
# prefixes coexist; SIGTERM during `run` kills the job's processes by namespace; `down` is
# idempotent and leaves nothing behind.
source "$(dirname "$0")/lib.sh" "$1" "$2"
sim=$E2E_SIM
fail() { echo "FAIL: $*"; exit 1; }
e2e_up 3
"$sim" up 3 >/dev/null 2>&1 && fail "a second 'up' with the same prefix succeeded"
[[ $(ip netns list | grep -c "^${NCD_SIM_PREFIX}n") -eq 3 ]] || fail "the refused 'up' touched the cluster"

hosts=$("$sim" run 3 -- hostname 2>/dev/null | sort | tr '\n' ' ')
[[ $hosts == "node0 node1 node2 " ]] || fail "hostnames: '$hosts'"
hosts=$("$sim" run 6 -- hostname 2>/dev/null | sort | uniq -c | awk '{print $1}' | tr '\n' ' ')
[[ $hosts == "2 2 2 " ]] || fail "6 ranks on 3 nodes: '$hosts'"

probe() {  # probe FROM TO_INDEX -> "open", "refused" or "silent"
  ip netns exec "${NCD_SIM_PREFIX}n$1" timeout 2 bash -c "exec 3<>/dev/tcp/10.99.0.$(($2 + 1))/9" 2>/dev/null
  case $? in 0) echo open ;; 124) echo silent ;; *) echo refused ;; esac
}
[[ $(probe 0 2) == refused ]] || fail "node2 should answer with a reset before the cut"
"$sim" cut node2 >/dev/null || fail "cut"
[[ $(probe 0 2) == silent ]] || fail "node2 not silent after cut"
[[ $(probe 2 1) == silent ]] || fail "node2 can still send after cut"
[[ $(probe 0 1) == refused ]] || fail "the cut affects node1"
"$sim" heal node2 >/dev/null || fail "heal"
[[ $(probe 0 2) == refused ]] || fail "node2 not reachable after heal"
"$sim" shape node1 100mbit >/dev/null || fail "shape"
ip netns exec "${NCD_SIM_PREFIX}n1" tc qdisc show dev eth0 | grep -q "tbf.*rate 100Mbit" || fail "no tbf on node1"
"$sim" shape node1 fast >/dev/null 2>&1 && fail "a bad rate was accepted"
# One link: only node0's and node2's egress get a class for each other; node1 keeps its tbf.
"$sim" shape-link node0 node2 50mbit >/dev/null || fail "shape-link"
for i in 0 2; do
  ip netns exec "${NCD_SIM_PREFIX}n$i" tc qdisc show dev eth0 | grep -q "tbf.*rate 50Mbit" || fail "no 50mbit tbf on node$i"
  ip netns exec "${NCD_SIM_PREFIX}n$i" tc filter show dev eth0 | grep -q "match 0a6300$(printf %02x $((3 - i)))/ffffffff" ||
    fail "node$i: no filter for its peer"
done
ip netns exec "${NCD_SIM_PREFIX}n1" tc qdisc show dev eth0 | grep -q "tbf.*rate 100Mbit" || fail "shape-link touched node1"
"$sim" shape-link node1 node1 50mbit >/dev/null 2>&1 && fail "a link from a node to itself was accepted"
"$sim" heal node2 >/dev/null || fail "heal node2"
ip netns exec "${NCD_SIM_PREFIX}n0" tc qdisc show dev eth0 | grep -q "50Mbit" && fail "node0 kept the healed link's class"
"$sim" cut node7 >/dev/null 2>&1 && fail "a node outside the cluster was accepted"

# A second cluster under another prefix coexists and goes away on its own.
NCD_SIM_PREFIX="${NCD_SIM_PREFIX}b" "$sim" up 2 >/dev/null || fail "second prefix"
NCD_SIM_PREFIX="${NCD_SIM_PREFIX}b" "$sim" down || fail "down of the second prefix"
[[ $(ip netns list | grep -c "^${NCD_SIM_PREFIX}n") -eq 3 ]] || fail "down of another prefix touched ours"

# SIGTERM while a job runs: every process in our namespaces is gone soon after.
"$sim" run 3 -- sleep 300 >/dev/null 2>&1 &
job=$!
for _ in $(seq 50); do
  [[ $(ip netns pids "${NCD_SIM_PREFIX}n2" | wc -l) -gt 0 ]] && break
  sleep 0.1
done
[[ $(ip netns pids "${NCD_SIM_PREFIX}n2" | wc -l) -gt 0 ]] || fail "the job never reached node2"
t0=$(now)
kill -TERM "$job"
wait "$job"
rc=$?
t1=$(now)
left=0
for ns in $(ip netns list | awk '{print $1}' | grep "^${NCD_SIM_PREFIX}[ns]"); do
  left=$((left + $(ip netns pids "$ns" | wc -l)))
done
[[ $rc -eq 143 ]] || fail "run after SIGTERM: exit $rc, expected 143"
[[ $left -eq 0 ]] || fail "$left process(es) left in the namespaces after SIGTERM"
echo "SIGTERM to run: all processes gone after $(elapsed "$t0" "$t1") s"

"$sim" down || fail "down"
"$sim" down || fail "second down"
[[ -z $(ip netns list | grep "^${NCD_SIM_PREFIX}") ]] || fail "namespaces left"
[[ ! -e /tmp/ncd-sim.$NCD_SIM_PREFIX ]] || fail "scratch dir left"
echo "ok: hostnames, silent cut and heal, shape, prefixes, SIGTERM cleanup, idempotent down"
