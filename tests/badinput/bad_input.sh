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
echo "bad input: $((cases - fail)) passed, $fail failed"
[[ $fail -eq 0 ]]
