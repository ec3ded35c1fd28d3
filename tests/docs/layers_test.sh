#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The include graph of src/ keeps the layer order of docs/developing.md (scripts/layers), and
# the script does catch an arrow up the layers and a cycle (planted in a scratch tree).
set -u
root=$1
out=$(python3 "$root/scripts/layers") || { echo "$out"; echo "FAIL: src/ breaks the layer order"; exit 1; }
echo "$out" | tail -1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/core" "$tmp/src/checks" "$tmp/src/topo" "$tmp/src/nccl"
printf '#include "checks/x.hpp"\n' > "$tmp/src/core/a.hpp"   # core up to checks
if python3 "$root/scripts/layers" --src "$tmp/src" > "$tmp/up.txt"; then
  cat "$tmp/up.txt"; echo "FAIL: an include from core up to checks passed"; exit 1
fi
grep -q "src/core/a.hpp:1: core (layer 0) includes checks (layer 4)" "$tmp/up.txt" ||
  { cat "$tmp/up.txt"; echo "FAIL: the violation is not named"; exit 1; }
rm "$tmp/src/core/a.hpp"
printf '#include "nccl/x.hpp"\n' > "$tmp/src/topo/a.hpp"    # same layer both ways: a cycle
printf '#include "topo/x.hpp"\n' > "$tmp/src/nccl/a.hpp"
if python3 "$root/scripts/layers" --src "$tmp/src" > "$tmp/cycle.txt"; then
  cat "$tmp/cycle.txt"; echo "FAIL: a cycle between topo and nccl passed"; exit 1
fi
grep -q "cycle between modules" "$tmp/cycle.txt" || { cat "$tmp/cycle.txt"; echo "FAIL: the cycle is not named"; exit 1; }
echo "ok: layer order kept; an upward include and a cycle are caught"
