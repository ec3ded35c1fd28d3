#!/usr/bin/env bash
# docs/checks.md is generated from the finding registry; fails when it is stale.
# Usage: checks_md_test.sh NCCL_DOCTOR DOCS/CHECKS.MD
set -u
bin=$1 doc=$2
tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT
"$bin" explain --markdown > "$tmp" || { echo "explain --markdown failed"; exit 1; }
if ! diff -u "$doc" "$tmp" > "$tmp.diff"; then
  head -40 "$tmp.diff"; rm -f "$tmp.diff"
  echo "docs/checks.md is stale: regenerate with  nccl-doctor explain --markdown > docs/checks.md"
  exit 1
fi
rm -f "$tmp.diff"
echo "ok: docs/checks.md matches the registry ($(grep -c '^## ' "$doc") ids)"
