#!/bin/sh
# `mpirun -np 2 soma trial run` gives byte for byte the files of the
# one-process run (summary.json, members.csv, bands.csv): members are split
# by index across ranks and seeded by index, and results travel between
# ranks as exact bytes. Also after a resume on 2 ranks.
# Usage: trial_mpi_test.sh SOMA MPIRUN SOURCE_DIR WORK_DIR
set -eu
soma=$1 mpirun=$2 src=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
trial="$src/trials/t1d-bolus-dose.json"
model="$src/models/t1d-uva-padova.xml"
"$soma" trial run "$trial" --model "$model" --out "$work/one" --threads 1 > "$work/one.txt"
"$mpirun" --allow-run-as-root --oversubscribe -np 2 "$soma" trial run "$trial" --model "$model" \
  --out "$work/two" --threads 1 > "$work/two.txt"
for f in summary.json members.csv bands.csv; do
  cmp "$work/one/$f" "$work/two/$f" || { echo "FAIL: $f differs between 1 process and 2 MPI ranks"; exit 1; }
done
# The printed summaries differ only in the results folder's name.
sed "s|$work/one|DIR|" "$work/one.txt" > "$work/one.norm"
sed "s|$work/two|DIR|" "$work/two.txt" > "$work/two.norm"
cmp "$work/one.norm" "$work/two.norm" || { echo "FAIL: printed summaries differ"; exit 1; }
# A run killed part way (its checkpoint cut inside a record) continues
# with --resume on 2 ranks and gives the same files.
mkdir -p "$work/resumed"
head -c 20000 "$work/one/checkpoint.bin" > "$work/resumed/checkpoint.bin"
"$mpirun" --allow-run-as-root --oversubscribe -np 2 "$soma" trial run "$trial" --model "$model" \
  --out "$work/resumed" --threads 1 --resume > /dev/null 2> "$work/resumed.err"
grep -q "resuming .*: [1-9][0-9]* members done" "$work/resumed.err" || { echo "FAIL: resume read no members"; cat "$work/resumed.err"; exit 1; }
grep -q "is cut short; it and any after it are cut off" "$work/resumed.err" || { echo "FAIL: the cut record was not reported"; cat "$work/resumed.err"; exit 1; }
for f in summary.json members.csv bands.csv; do
  cmp "$work/one/$f" "$work/resumed/$f" || { echo "FAIL: $f differs after an MPI resume"; exit 1; }
done
# 200 members take two MPI rounds (128 members a round on 2 ranks x 1
# thread), the second one partly filled.
sed -e 's|"size": 64|"size": 200|' -e "s|\.\./scenarios/|$src/scenarios/|g" "$trial" > "$work/big.json"
grep -q '"size": 200' "$work/big.json"
"$soma" trial run "$work/big.json" --model "$model" --out "$work/big-one" --threads 1 > /dev/null
"$mpirun" --allow-run-as-root --oversubscribe -np 2 "$soma" trial run "$work/big.json" --model "$model" \
  --out "$work/big-two" --threads 1 > /dev/null
for f in summary.json members.csv bands.csv; do
  cmp "$work/big-one/$f" "$work/big-two/$f" || { echo "FAIL: $f differs on 200 members over two MPI rounds"; exit 1; }
done
# The 2-rank checkpoint holds all 200: resuming it runs nothing.
"$soma" trial run "$work/big.json" --model "$model" --out "$work/big-two" --resume > /dev/null 2> "$work/big-two.err"
grep -q "resuming .*: 200 members done" "$work/big-two.err" || { echo "FAIL: the 2-rank checkpoint lacks members"; cat "$work/big-two.err"; exit 1; }
# A population symbol the model lacks stops every rank with the symbol
# named (no rank left waiting for the others).
sed -e 's|"size": 64|"size": 8|' -e 's|"Vmx"|"Vmx_nope"|' -e "s|\.\./scenarios/|$src/scenarios/|g" "$trial" > "$work/bad.json"
rc=0
timeout 120 "$mpirun" --allow-run-as-root --oversubscribe -np 2 "$soma" trial run "$work/bad.json" --model "$model" \
  --out "$work/bad" --threads 1 > "$work/bad.out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || { echo "FAIL: a trial with an unknown population symbol succeeded on 2 ranks"; exit 1; }
[ "$rc" -ne 124 ] || { echo "FAIL: the 2-rank run hung on an unknown population symbol"; exit 1; }
grep -q "Vmx_nope" "$work/bad.out" || { echo "FAIL: the 2-rank error does not name the symbol"; cat "$work/bad.out"; exit 1; }
# Results do not depend on the thread count either.
"$soma" trial run "$trial" --model "$model" --out "$work/threads" --threads 2 > /dev/null
cmp "$work/one/summary.json" "$work/threads/summary.json"
echo "OK: 1 process, 2 MPI ranks (one round and two), an MPI resume and 2 threads agree byte for byte"
