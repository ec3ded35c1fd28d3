#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Attribution on 4 simulated nodes at sizes the old median rule missed (issue 21). Shaping is
# relative and controlled: an unshaped sweep first gives the machine's median now; every node
# is then shaped to a base rate B well below it (median/40, 24..100 Mbit/s), halved until a
# healthy sweep shows the shaping is what limits (links_calibrate), so the healthy level is a
# rate the test sets, not the weather of a loaded 2-core box. Then:
#   healthy at B (twice): silent;
#   node2 at B/2: node.slow node2, warn, nothing else;
#   node2 at B/4: node.slow node2, error, nothing else;
#   link node1<->node3 at B/2 (sim-cluster shape-link), node2 back at B: link.slow on that link,
#   no node blamed, nothing else.
source "$(dirname "$0")/lib.sh" "$1" "$2"
e2e_up 4
T0=$(now)
links_run unshaped 4 --size 4M -n 3 --passes 1 || exit 1
links_check unshaped || echo "(not asserted: the unshaped run only gives the reference rate; links_healthy judges unshaped runs)"
B=$(links_base_mbit unshaped 40 24 100) || exit 1
echo "unshaped median: $(python3 "$(dirname "$0")/links_expect.py" "$E2E_TMP/unshaped.json" x --median) GB/s -> base rate ${B}mbit"
B=$(links_calibrate 4 healthy1 "$B") || exit $?
LINKS_ARGS=(--size "$(links_size_k "$B")K" -n 3 --passes 3 --timeout 150)
links_check healthy1 || exit 1
links_run healthy2 4 "${LINKS_ARGS[@]}" && links_check healthy2 || exit 1
"$E2E_SIM" shape node2 "$((B / 2))mbit" >/dev/null || exit 1
links_run half 4 "${LINKS_ARGS[@]}" && links_check half --want "node.slow:node2 (all links):warn" || exit 1
"$E2E_SIM" shape node2 "$((B / 4))mbit" >/dev/null || exit 1
links_run quarter 4 "${LINKS_ARGS[@]}" && links_check quarter --want "node.slow:node2 (all links):error" || exit 1
"$E2E_SIM" shape node2 "${B}mbit" >/dev/null || exit 1
"$E2E_SIM" shape-link node1 node3 "$((B / 2))mbit" >/dev/null || { echo "FAIL: shape-link"; exit 1; }
links_run link 4 "${LINKS_ARGS[@]}" && links_check link --want "link.slow:node1<->node3:warn" || exit 1
echo "ok: 4 nodes, base ${B}mbit: healthy x2 silent, node2 at 1/2 warn, at 1/4 error, node1<->node3 at 1/2 link.slow;" \
     "total $(elapsed "$T0" "$(now)") s"
