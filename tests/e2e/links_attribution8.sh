#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Attribution on 8 simulated nodes (see links_attribution.sh for the method): every node shaped
# to a base rate B below the unshaped median; healthy: silent; then node5 at B/2 AND the link
# node1<->node6 at B/2 in the same run: node.slow node5 (warn) and link.slow node1<->node6
# (warn), nothing else.
source "$(dirname "$0")/lib.sh" "$1" "$2"
e2e_up 8
T0=$(now)
links_run unshaped 8 --size 2M -n 2 --passes 1 || exit 1
B=$(links_base_mbit unshaped 60 16 60) || exit 1
echo "unshaped median: $(python3 "$(dirname "$0")/links_expect.py" "$E2E_TMP/unshaped.json" x --median) GB/s -> base rate ${B}mbit"
B=$(links_calibrate 8 healthy "$B") || exit $?
LINKS_ARGS=(--size "$(links_size_k "$B")K" -n 3 --passes 2 --timeout 150)
links_check healthy || exit 1
"$E2E_SIM" shape node5 "$((B / 2))mbit" >/dev/null || exit 1
"$E2E_SIM" shape-link node1 node6 "$((B / 2))mbit" >/dev/null || exit 1
links_run both 8 "${LINKS_ARGS[@]}" &&
  links_check both --want "node.slow:node5 (all links):warn" --want "link.slow:node1<->node6:warn" || exit 1
echo "ok: 8 nodes, base ${B}mbit: healthy silent; node5 at 1/2 and node1<->node6 at 1/2 named apart;" \
     "total $(elapsed "$T0" "$(now)") s"
