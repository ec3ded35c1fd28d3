#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench beside nccl-tests (issue 18): every row is printed on stderr as it is measured (rank 0,
# terminal or not) and again in the table on stdout; stdout ends with nccl-tests'
# "# Out of bounds values" and "# Avg bus bandwidth" lines (the mean of the rows' busbw); the
# header says out-of-place only; -g/-t above 1 stop with exit 3 and what to do instead;
# -a and -G are accepted and their no-op named.
set -u
bin=$1; shift
mpiexec=("$@")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
timeout 200 "${mpiexec[@]}" -n 2 "$bin" bench --backend mpi --algo ring,native -b 64K -e 1M -f 4 -n 3 -w 1 -a 1 -G 5 \
  > "$tmp/out" 2> "$tmp/err" < /dev/null
rc=$?
[[ $rc -le 2 ]] || { cat "$tmp/out" "$tmp/err"; fail "bench exit $rc"; }
# size count type redop root time algbw busbw #wrong spread, then the model's busbw (or N/A) and
# nccl-tests' time and busbw (the loop mean)
row='^ +[0-9]+ +[0-9]+ +float +sum +-?[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9N/A]+ +[0-9.]+( +[0-9.N/A]+)*$'
n_out=$(grep -cE "$row" "$tmp/out")
n_err=$(grep -cE "$row" "$tmp/err")
[[ $n_out -eq 6 ]] || { cat "$tmp/out"; fail "$n_out rows on stdout, expected 6 (2 algos x 3 sizes)"; }
[[ $n_err -eq $n_out ]] || { cat "$tmp/err"; fail "$n_err rows on stderr as measured, expected $n_out"; }
diff <(grep -E "$row" "$tmp/out") <(grep -E "$row" "$tmp/err") > /dev/null || fail "live rows differ from the table"
grep -q "out-of-place" "$tmp/out" || fail "the header does not say out-of-place"
grep -q "in-place: not measured" "$tmp/out" || fail "the header does not say in-place is not measured"
grep -q -- "-a 1 is not used" "$tmp/out" || fail "-a 1 not named as unused"
grep -q -- "-G 5: ignored" "$tmp/out" || fail "-G 5 not named as a no-op"
grep -qE '^# Out of bounds values : 0 OK$' "$tmp/out" || fail "no '# Out of bounds values' line"
avg=$(sed -n 's/^# Avg bus bandwidth    : \([0-9.]*\) $/\1/p' "$tmp/out")
[[ -n $avg ]] || { cat "$tmp/out"; fail "no '# Avg bus bandwidth' line"; }
mean=$(grep -E "$row" "$tmp/out" | awk '{s += $8; n++} END {printf "%.4f", s / n}')
awk -v a="$avg" -v m="$mean" 'BEGIN {d = a - m; if (d < 0) d = -d; exit !(d <= 0.01 + 0.01 * m)}' \
  || fail "Avg bus bandwidth $avg is not the mean of the rows' busbw ($mean, rounded to 2 decimals per row)"
echo "ok: $n_err live rows, Avg bus bandwidth $avg (rows' mean $mean)"
for bad in "-g 2" "-t 4"; do
  timeout 60 "$bin" bench --backend mpi $bad > "$tmp/o" 2> "$tmp/e" < /dev/null
  rc=$?
  [[ $rc -eq 3 && $(grep -c . "$tmp/e") -eq 1 ]] || { cat "$tmp/e"; fail "bench $bad: exit $rc"; }
  grep -q "ranks instead" "$tmp/e" || { cat "$tmp/e"; fail "bench $bad does not say what to do"; }
done
echo "PASS"
