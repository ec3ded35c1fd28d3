#!/usr/bin/env bash
# The bad-input matrix (issue 9): every file-reading command, fed empty files, binary junk,
# truncated XML, 200,000 levels of nesting, an entity bomb, a 20 MB single line, a directory,
# a missing file, an unreadable file, absurd numbers, unknown enum strings and a report of the
# wrong schema, must exit 3 with ONE line on stderr naming the file, within 30 s and 4 GiB,
# never crash or hang.
# Usage: bad_input.sh <nccl-doctor> <repository root>
set -u
bin=$1
root=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; cases=0

topo_good=$root/topology/nccl/azure-ndv4-a100.xml
graph_good=$root/topology/rings/azure-ncv4-a100-pcie-graph.xml
hwloc_good=$root/topology/hwloc/aws-p4d-hwloc2.10.xml
for f in "$topo_good" "$graph_good" "$hwloc_good"; do
  [[ -s $f ]] || { echo "bad_input.sh: fixture $f missing"; exit 1; }
done

# ---- the bad inputs
: > "$tmp/empty"
head -c 65536 /dev/urandom > "$tmp/junk.bin"
# Half of a real file (a fixed byte count could be longer than the file: then nothing is cut).
head -c $(( $(stat -c %s "$topo_good") / 2 )) "$topo_good" > "$tmp/truncated.xml"
python3 - "$tmp" <<'PY'
import sys, os
d = sys.argv[1]
with open(os.path.join(d, "deep.xml"), "w") as f:
    f.write("<system version=\"1\">" + "<pci>" * 200000 + "</pci>" * 200000 + "</system>\n")
with open(os.path.join(d, "bomb.xml"), "w") as f:
    f.write('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n')
    prev = "lol"
    for i in range(1, 10):
        f.write(f'<!ENTITY lol{i} "' + f"&{prev};" * 10 + '">\n')
        prev = f"lol{i}"
    f.write(f']>\n<system version="1"><cpu numaid="0" affinity="&{prev};"/></system>\n')
with open(os.path.join(d, "longline.txt"), "w") as f:
    f.write("x" * (20 * 1024 * 1024))
with open(os.path.join(d, "absurd.xml"), "w") as f:
    f.write('<system version="1"><cpu numaid="0" affinity="ffffffff" arch="x86_64" vendor="GenuineIntel">'
            '<pci busid="0000:1b:00.0" class="0x030200" vendor="0x10de" device="0x20b0" '
            'link_speed="1e999 GT/s PCIe" link_width="99999999999999999999999">'
            '<gpu dev="-7" sm="NaN" rank="0" gdr="1"><nvlink target="0000:ff:00.0" count="-3" tclass="0x068000"/></gpu>'
            '</pci></cpu></system>\n')
with open(os.path.join(d, "enum.xml"), "w") as f:
    f.write('<system version="1"><cpu numaid="zero" affinity="zz" arch="vax" vendor="Nobody">'
            '<pci busid="not-a-bus-id" class="0xZZZZ" link_speed="fast GT/s" link_width="wide">'
            '<gpu dev="0" sm="80" rank="0" gdr="maybe"/></pci></cpu></system>\n')
with open(os.path.join(d, "wrong-schema.json"), "w") as f:
    f.write('{"schema": "someone-else/v7", "findings": []}\n')
PY
mkdir "$tmp/adir"
cp "$topo_good" "$tmp/unreadable.xml"; chmod 000 "$tmp/unreadable.xml"

run_case() {  # run_case <label> <file named in the error> <args...>
  local label=$1 file=$2; shift 2
  cases=$((cases + 1))
  local out=$tmp/out err=$tmp/err rc
  local runner=()
  [[ $label == unreadable* && $EUID -eq 0 ]] && runner=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  ( ulimit -v 4194304; timeout 30 "${runner[@]}" "$bin" "$@" ) >"$out" 2>"$err"
  rc=$?
  local lines
  lines=$(grep -c . "$err")
  if [[ $rc -ne 3 || $lines -ne 1 ]] || ! grep -qF -- "$file" "$err"; then
    echo "FAIL [$label] $*: exit $rc, $lines stderr line(s):"; head -c 600 "$err"; echo
    fail=$((fail + 1))
  fi
}

bad_xml=(empty junk.bin truncated.xml deep.xml bomb.xml longline.txt adir missing.xml absurd.xml enum.xml unreadable.xml)
chmod 755 "$tmp"
for b in "${bad_xml[@]}"; do
  f=$tmp/$b
  run_case "$b topo --nccl-topo" "$f" topo --nccl-topo "$f"
  run_case "$b topo --hwloc-xml" "$f" topo --hwloc-xml "$f"
  run_case "$b rings --topo-xml" "$f" rings --topo-xml "$f" --graph-xml "$graph_good"
  run_case "$b rings --graph-xml" "$f" rings --topo-xml "$topo_good" --graph-xml "$f"
done
for b in empty junk.bin truncated.xml longline.txt adir missing.json wrong-schema.json unreadable.xml; do
  f=$tmp/$b
  run_case "$b topo --load" "$f" topo --load "$f"
  run_case "$b diff (old)" "$f" diff "$f" "$f"
done
for b in empty junk.bin longline.txt adir missing.log deep.xml unreadable.xml; do
  f=$tmp/$b
  run_case "$b log" "$f" log "$f"
done
# ---- issue 20: reports that cannot destroy, lie or hang (only files of the repository)
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
healthy_log=$repo/tests/data/logs/cases/healthy-a3mega-2node-h100-nccltests.log
check() {  # check <label> <condition-status> [detail]
  cases=$((cases + 1))
  if [[ $2 -ne 0 ]]; then echo "FAIL [$1] ${3:-}"; fail=$((fail + 1)); fi
}
"$bin" log "$healthy_log" --json "$tmp/r.json" >/dev/null 2>&1
[[ -s $tmp/r.json ]]; check "a report to show" $?

# `--json - > /dev/full`: the write to stdout fails, exit 3, one line naming stdout.
"$bin" show "$tmp/r.json" --json - --format text >/dev/full 2>"$tmp/err"; rc=$?
[[ $rc -eq 3 ]] && grep -q "standard output" "$tmp/err"; check "--json - >/dev/full" $? "exit $rc: $(head -c 300 "$tmp/err")"
# A closed stdout is not success either.
"$bin" explain bench.timeout >&- 2>"$tmp/err"; rc=$?
[[ $rc -eq 3 ]]; check "explain >&-" $? "exit $rc"
# One failing format stops neither the others nor the verdict on stdout.
"$bin" show "$tmp/r.json" --json /dev/full --prom "$tmp/ok.prom" >"$tmp/out" 2>"$tmp/err"; rc=$?
[[ $rc -eq 3 && -s $tmp/ok.prom && $(grep -c . "$tmp/err") -eq 1 ]] && grep -q "/dev/full" "$tmp/err" && grep -qi "verdict\|healthy\|problem" "$tmp/out"
check "one failing format" $? "exit $rc: $(head -c 300 "$tmp/err")"
# Two outputs on one path: usage error before any work.
"$bin" show "$tmp/r.json" --json "$tmp/same" --html "$tmp/./same" >/dev/null 2>"$tmp/err"; rc=$?
[[ $rc -eq 3 && ! -e $tmp/same && $(grep -c . "$tmp/err") -eq 1 ]]; check "two outputs one path" $? "exit $rc: $(cat "$tmp/err")"
# An output path that cannot be written is refused before measuring (bench would measure).
start=$(date +%s%N)
"$bin" bench --backend mpi --json "$tmp/no-such-dir/r.json" >/dev/null 2>"$tmp/err"; rc=$?
[[ $rc -eq 3 && $(grep -c . "$tmp/err") -eq 1 ]] && grep -q "no-such-dir" "$tmp/err"; check "bad output path up front" $? "exit $rc: $(cat "$tmp/err")"
# A device node stays a device node (mknod needs root: skipped without it).
if mknod "$tmp/null" c 1 3 2>/dev/null; then
  "$bin" show "$tmp/r.json" --json "$tmp/null" --prom "$tmp/null2" >/dev/null 2>&1
  [[ -c $tmp/null ]]; check "device node survives" $? "$(ls -l "$tmp/null")"
else
  echo "skip: device node case (mknod not permitted)"
fi
# A truncated .gz log is reported as truncated, never exit 0.
{ for i in $(seq 40); do cat "$healthy_log"; done; } | gzip -c > "$tmp/whole.log.gz"
head -c $(( $(stat -c %s "$tmp/whole.log.gz") / 2 )) "$tmp/whole.log.gz" > "$tmp/cut.log.gz"
"$bin" log "$tmp/cut.log.gz" --json "$tmp/cut.json" >"$tmp/out" 2>"$tmp/err"; rc=$?
[[ $rc -ne 0 ]] && grep -q "truncated" "$tmp/out" && grep -q '"log.input_damaged"' "$tmp/cut.json"
check "truncated .gz" $? "exit $rc: $(head -c 400 "$tmp/out")"
"$bin" log "$tmp/whole.log.gz" >/dev/null 2>&1; rc=$?
[[ $rc -eq 0 ]]; check "whole .gz still healthy" $? "exit $rc"
# A FIFO without a writer ends by the --timeout deadline, exit 3, one line naming it.
mkfifo "$tmp/fifo"
start=$(date +%s%N)
timeout 60 "$bin" log --timeout 2 "$tmp/fifo" >/dev/null 2>"$tmp/err"; rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
[[ $rc -eq 3 && $took -ge 1900 && $(grep -c . "$tmp/err") -eq 1 ]] && grep -q "$tmp/fifo" "$tmp/err"
check "log on a FIFO without writer" $? "exit $rc after $took ms: $(cat "$tmp/err")"
echo "log on a FIFO without writer: exit $rc after $took ms (deadline 2 s)"
# show on /dev/zero: exit 3 within 2 s (it fails on the first byte, not after a gigabyte).
start=$(date +%s%N)
timeout 60 "$bin" show /dev/zero >/dev/null 2>"$tmp/err"; rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
[[ $rc -eq 3 && $took -lt 2000 ]]; check "show /dev/zero" $? "exit $rc after $took ms"
echo "show /dev/zero: exit $rc after $took ms"
# UTF-16 is named as such, not "binary data".
iconv -f UTF-8 -t UTF-16 "$healthy_log" > "$tmp/utf16.log"
"$bin" log "$tmp/utf16.log" >/dev/null 2>"$tmp/err"; rc=$?
[[ $rc -eq 3 ]] && grep -q "UTF-16" "$tmp/err"; check "UTF-16 log" $? "exit $rc: $(cat "$tmp/err")"
# Terminal escapes inside a report are shown, not obeyed.
python3 - "$tmp/r.json" "$tmp/esc.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["findings"].append({"id": "env.risky", "severity": "warn", "host": "h\x1b]0;owned\x07",
                      "subject": "s\x1b[2J", "message": "m\x1b[31mred\r", "evidence": ["e\x9b1m"], "hint": "x"})
json.dump(r, open(sys.argv[2], "w"))
PY
"$bin" show "$tmp/esc.json" --color never >"$tmp/out" 2>&1
! grep -q $'\x1b' "$tmp/out" && grep -q 'x1b\[31mred' "$tmp/out"; check "escapes in show" $? "$(head -c 300 "$tmp/out" | od -c | head -5)"
# show's memory is a small multiple of the report (issue: 8.5x): a 60 MB report of links.
python3 - "$tmp/r.json" "$tmp/big.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
links = [{"src_host": "node%04d" % (i % 512), "dst_host": "node%04d" % ((i * 7 + 1) % 512), "src_rank": i % 4096,
          "dst_rank": (i * 7 + 1) % 4096, "bytes": 8388608, "gbps": 11.5 + (i % 100) / 100.0, "latency_us": 3.25,
          "class": "net", "ok": True} for i in range(300000)]
r["measurements"]["links"] = links
with open(sys.argv[2], "w") as f:
    json.dump(r, f, indent=2)
PY
size=$(stat -c %s "$tmp/big.json")
/usr/bin/time -v "$bin" show "$tmp/big.json" >/dev/null 2>"$tmp/time"; rc=$?
rss_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$tmp/time")
echo "show on a $((size / 1000000)) MB report: exit $rc, peak RSS $((rss_kb / 1024)) MiB ($(awk -v r="$rss_kb" -v s="$size" 'BEGIN{printf "%.2f", r*1024/s}')x the file)"
[[ $rc -le 2 && -n $rss_kb && $(( rss_kb * 1024 )) -lt $(( size * 2 )) ]]; check "show memory" $? "rss ${rss_kb} kB for $size bytes"

echo "bad input: $((cases - fail)) passed, $fail failed"
[[ $fail -eq 0 ]]
