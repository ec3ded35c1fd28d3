#!/usr/bin/env bash
# scripts/nightly-sweep as cron would run it (2 ranks, --quick to keep CI short): the textfile
# lands in the node_exporter directory and is valid, only the last --keep reports stay, latest
# links point at the newest, --save-golden makes the next run compare with it, and a run that
# dies before writing still leaves a textfile saying exit 3.
set -u
bin=$1; shift
mpiexec=("$@")
here=$(cd "$(dirname "$0")" && pwd)
script=$here/../../scripts/nightly-sweep
check=$here/../tools/check_reports.py
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
launch="${mpiexec[*]} -n 2"

for i in 1 2 3; do
  extra=()
  [[ $i -eq 1 ]] && extra=(--save-golden --golden-allow-warnings)
  "$script" --bin "$bin" --launcher "$launch" --out "$tmp/out" --textfile-dir "$tmp/textfile" --keep 2 \
    "${extra[@]}" -- --quick > "$tmp/run$i.txt" 2>&1
  rc=$?
  [[ $rc -le 2 ]] || { echo "run $i: exit $rc"; cat "$tmp/run$i.txt"; ls -R "$tmp/out"; exit 1; }
  python3 "$check" --prom "$tmp/textfile/nccl_doctor.prom" --json "$tmp/out/latest.json" --exit-code "$rc" || exit 1
  sleep 1  # distinct timestamps
done
n=$(ls "$tmp/out/reports"/*.json | wc -l)
[[ $n -eq 2 ]] || { echo "$n reports kept, expected 2"; ls "$tmp/out/reports"; exit 1; }
[[ -s $tmp/out/golden.json && -L $tmp/out/latest.html ]] || { echo "no golden or latest.html"; ls -l "$tmp/out"; exit 1; }
newest=$(ls "$tmp/out/reports"/*.json | sort | tail -1)
[[ $(readlink -f "$tmp/out/latest.json") == $(readlink -f "$newest") ]] || { echo "latest.json is not the newest"; exit 1; }
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["sections"]["baseline"]["file"].endswith("golden.json"), r["sections"].keys()' \
  "$tmp/out/latest.json" || { echo "runs 2 and 3 did not compare with the golden report"; exit 1; }
ls "$tmp/textfile" | grep -v '^nccl_doctor.prom$' && { echo "stray files in the textfile directory"; exit 1; }

# A sweep that cannot start (a baseline that is not a report) still updates the textfile.
echo '{}' > "$tmp/broken.json"
"$script" --bin "$bin" --launcher "$launch" --out "$tmp/out" --textfile-dir "$tmp/textfile" \
  --baseline "$tmp/broken.json" -- --quick > "$tmp/fail.txt" 2>&1
rc=$?
[[ $rc -eq 3 ]] || { echo "broken baseline: exit $rc"; cat "$tmp/fail.txt"; exit 1; }
grep -qx "nccl_doctor_exit_code 3" "$tmp/textfile/nccl_doctor.prom" || { echo "textfile not updated after a failed run"; cat "$tmp/textfile/nccl_doctor.prom"; exit 1; }
python3 "$check" --prom "$tmp/textfile/nccl_doctor.prom" || exit 1
# An incomplete run (one rank: bench and links not measured) never becomes the golden report.
cp "$tmp/out/golden.json" "$tmp/golden.before"
"$script" --bin "$bin" --launcher "${mpiexec[*]} -n 1" --out "$tmp/out" --textfile-dir "$tmp/textfile" \
  --save-golden --golden-allow-warnings -- --quick > "$tmp/one.txt" 2>&1
rc=$?
[[ $rc -eq 3 || $rc -eq 2 ]] || { echo "one-rank nightly run: exit $rc, expected 3 (incomplete) or 2"; cat "$tmp/one.txt"; exit 1; }
cmp -s "$tmp/golden.before" "$tmp/out/golden.json" || { echo "an incomplete run replaced the golden report"; exit 1; }
grep -q "not saved as the golden baseline" "$tmp/one.txt" || { echo "no word on the refused golden"; cat "$tmp/one.txt"; exit 1; }
echo "ok: nightly sweep kept 2 of 3 reports, textfile valid, golden baseline used, failure visible"
