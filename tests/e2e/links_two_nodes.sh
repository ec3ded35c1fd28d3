#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# 2 simulated nodes: one link, nothing to compare it with, and veth has no NIC rate. Without an
# expectation `links` says it could not judge (link.not_judged, info; INCOMPLETE, exit 3: the
# link was measured but link.slow had nothing to judge it against); with one
# (--expect at 2.5x what the shaped link gave, as a NIC rate would) the link at about 0.4x of it
# is link.slow and the finding says it compared against the expectation only.
source "$(dirname "$0")/lib.sh" "$1" "$2"
e2e_up 2
T0=$(now)
args=(--size 1M -n 3 --passes 2 --timeout 60)
links_run unshaped 2 --size 4M -n 3 --passes 1 || exit 1
links_check unshaped --incomplete --info "link.not_judged:could not judge" || exit 1
B=$(links_base_mbit unshaped 10 40 100) || exit 1
shape_all 2 "${B}mbit" || { echo "skip: tbf unavailable"; exit 77; }
links_run shaped 2 "${args[@]}" && links_check shaped --incomplete --info "link.not_judged:could not judge" || exit 1
# The expectation: 2.5x what the shaped link just gave, as if its NIC should give that: the
# link then runs at about 0.4x of what its hardware should give.
M=$(python3 "$(dirname "$0")/links_expect.py" "$E2E_TMP/shaped.json" x --median) || exit 1
expect=$(python3 -c "print(f'{2.5 * $M:.5f}')")
links_run expect 2 "${args[@]}" --expect "net=$expect" &&
  links_check expect --want "link.slow:node0<->node1:warn" || exit 1
python3 - "$E2E_TMP/expect.json" <<'PY' || exit 1
import json, sys
f = [f for f in json.load(open(sys.argv[1]))["findings"] if f["id"] == "link.slow"][0]
assert "compared against the expectation only" in f["message"], f["message"]
print(f"ok: {f['message']}")
PY
echo "ok: 2 nodes: not judged without an expectation, link.slow against --expect; total $(elapsed "$T0" "$(now)") s"
