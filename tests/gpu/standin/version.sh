#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# An unsupported libnccl: the stand-in reports NCCL 2.17.1. bench --backend nccl and rings must
# refuse with one clear error line (naming the library and the 2.18 minimum) and exit 3, alone
# and under mpiexec; the supported stand-in (2.28.9) shows in `version`.
source "$(dirname "$0")/common.bash"
fail=0
for cmd in "bench --backend nccl -b 4K -e 4K -n 1 -w 0" "rings"; do
  # shellcheck disable=SC2086
  NCD_STANDIN_NCCL_VERSION=2.17.1 timeout 60 "$bin" $cmd > "$tmp/out" 2> "$tmp/err"
  rc=$?
  lines=$(wc -l < "$tmp/err")
  if [[ $rc -ne 3 || $lines -ne 1 ]] || ! grep -q "NCCL 2.17.1; the GPU backend needs NCCL 2.18 or newer" "$tmp/err" \
     || ! grep -q "$standin_lib/libnccl.so.2" "$tmp/err"; then
    echo "FAIL ($cmd): exit $rc, $lines stderr line(s):"; cat "$tmp/err" "$tmp/out"; fail=1
  else
    echo "ok ($cmd): exit 3: $(cat "$tmp/err")"
  fi
done
NCD_STANDIN_NCCL_VERSION=2.17.1 timeout 120 "${mpiexec[@]}" -n 4 "$bin" bench --backend nccl -b 4K -e 4K -n 1 -w 0 \
  > "$tmp/out" 2> "$tmp/err"
rc=$?
if [[ $rc -ne 3 ]] || ! grep -q "needs NCCL 2.18" "$tmp/err"; then
  echo "FAIL (mpiexec -n 4): exit $rc"; cat "$tmp/err"; fail=1
else
  echo "ok (mpiexec -n 4): exit 3"
fi
"$bin" version > "$tmp/v" 2>&1
grep -q "2.28.9" "$tmp/v" || { echo "FAIL: version does not show the loaded NCCL 2.28.9:"; cat "$tmp/v"; fail=1; }
exit $fail
