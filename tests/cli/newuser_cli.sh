#!/usr/bin/env bash
# newuser_cli.sh — what a new user hit (issue 15), one check each; every check failed before
# the fix:  no temporary left under ulimit -f or a fatal signal, -o /dev/stdout appends,
# select checks its outputs first, impute keeps a CSV header, the usage errors (--dims with
# CSV/.npy, a .json table, --k 1,,2, .npy on stdin), drop-empty-rows in score/BIC, the
# warnings and messages, and the help text.
#   newuser_cli.sh EMGMM
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
E=$(realpath "$1")
# shellcheck source=../common/checks.sh
. "$HERE/../common/checks.sh"
scratch newuser

cat >m.json <<'EOF'
{"format": "emgmm-model", "version": 1, "covariance_type": "full", "n_components": 2,
 "n_features": 2, "weights": [0.4, 0.6], "means": [[0.0, 1.0], [3.0, -1.0]],
 "covariances": [[[1.0, 0.3], [0.3, 1.0]], [[0.5, 0.0], [0.0, 2.0]]]}
EOF
"$E" sample m.json -n 400 --seed 3 -o d.csv || { echo "cannot make data"; exit 1; }
"$E" sample m.json -n 400 --seed 3 -o d.npy || { echo "cannot make data"; exit 1; }

# ---- 1. a file-size limit: every subcommand that writes leaves only the old file
echo "old" >old.csv
for cmd in "sample m.json -n 200000 -o OUT" "sample m.json -n 200000 -o OUT.npy" \
           "predict m.json d.csv -o OUT" "predict m.json d.csv --proba -o OUT" \
           "score m.json d.csv --per-sample -o OUT" "impute m.json d.csv -o OUT" \
           "fit d.csv -k 2 -o OUT.json" "select d.csv --k 1:2 -q --table OUT"; do
  rm -f OUT OUT.npy OUT.json; cp old.csv OUT; cp old.csv OUT.npy; cp old.csv OUT.json
  CHECKS=$((CHECKS + 1))
  # shellcheck disable=SC2086
  # stderr through a pipe: the limit would stop a file too
  (ulimit -f 0; exec "$E" $cmd 2>&1 >/dev/null) | cat >err.txt; rc=${PIPESTATUS[0]}
  [ $rc -eq 3 ] || fail "ulimit -f 0: '$cmd' exited $rc, expected 3: $(cat err.txt)"
  grep -q "File too large" err.txt || fail "ulimit -f 0: '$cmd' does not say why: $(cat err.txt)"
  for f in OUT OUT.npy OUT.json; do cmp -s "$f" old.csv || fail "ulimit -f: '$cmd' changed $f"; done
  no_temps "ulimit -f 0: $cmd"
done
# a limit hit in the middle of the file, not at its first byte
(ulimit -f 64; "$E" sample m.json -n 100000 -o mid.csv >/dev/null 2>&1)
check 'test ! -e mid.csv'
no_temps "ulimit -f 64"

# ---- 2. a fatal signal while writing removes the temporary
"$E" sample m.json -n 30000000 -o big.csv 2>/dev/null &
pid=$!
for _ in $(seq 50); do ls -a | grep -q '^\.big\.csv\.' && break; sleep 0.1; done
kill -TERM $pid; wait $pid; rc=$?
check '[ $rc -eq 143 ]'
check 'test ! -e big.csv'
no_temps "SIGTERM during sample"

# ---- 3. -o /dev/stdout appends where the shell says, never renames over the file
echo "kept line" >acc.txt
"$E" predict m.json d.csv -o /dev/stdout >>acc.txt 2>err.txt
check '[ "$(head -1 acc.txt)" = "kept line" ]'
check '[ "$(wc -l <acc.txt)" -eq 401 ]'
"$E" fit d.csv -k 2 -o /dev/stdout >>acc.txt 2>err.txt
check '[ "$(head -1 acc.txt)" = "kept line" ]'
check 'grep -q "\"format\": \"emgmm-model\"" acc.txt'
mkfifo fifo
cat fifo >fifo.out &
"$E" predict m.json d.csv -o fifo 2>err.txt
wait
check '[ "$(wc -l <fifo.out)" -eq 400 ]'
check 'test -p fifo'

# ---- 4. select checks -o and --table before any fit
CHECKS=$((CHECKS + 1))
s0=$(date +%s%N)
"$E" select d.csv --k 1:12 -o /nonexist/b.json >out.txt 2>err.txt; rc=$?
[ $rc -eq 3 ] && grep -q "cannot create /nonexist/b.json" err.txt ||
  fail "select -o /nonexist: $rc $(cat err.txt)"
grep -q "K=" out.txt && fail "select ran fits before failing on -o"
bad 3 "cannot create /nonexist/t.csv" "" "$E" select d.csv --k 1:12 --table /nonexist/t.csv

# ---- 5. usage errors (exit 2, one line)
bad 2 "--dims is for raw binary" "" "$E" fit d.csv -k 2 --dims 2
bad 2 "--dims is for raw binary" "" "$E" score m.json d.npy --dims 2
bad 2 "cannot write a table as '.json'" labels.json "$E" predict m.json d.csv -o labels.json
bad 2 "an empty item in '1,,2'" "" "$E" select d.csv --k 1,,2
bad 2 "an empty item" "" "$E" select d.csv --k 1,2,
CHECKS=$((CHECKS + 1))
"$E" score m.json - <d.npy >out.txt 2>err.txt; rc=$?
[ $rc -eq 2 ] && grep -q "stdin is read as CSV only, and this is a .npy file" err.txt ||
  fail "npy on stdin: $rc $(cat err.txt)"

# ---- 6. impute keeps a CSV's header and delimiter
printf 'x;y\n1.5;NA\n2;3\n0.5;0.25\n' >h.csv
ok "$E" impute m.json h.csv -o hi.csv
check '[ "$(head -1 hi.csv)" = "x;y" ]'
check '[ "$(sed -n 3p hi.csv)" = "2;3" ]'
check '[ "$(wc -l <hi.csv)" -eq 4 ]'
ok "$E" impute m.json h.csv -o hi.tsv
check '[ "$(head -1 hi.tsv)" = "$(printf "x\ty")" ]'
check '[ "$(sed -n 3p hi.tsv)" = "$(printf "2\t3")" ]'

# ---- 7. drop-empty-rows: empty rows count neither in score's mean nor in BIC's n
printf 'a,b\n' >e.csv; sed -n 2,41p d.csv >>e.csv
cp e.csv e2.csv; printf 'NA,NA\nNA,NA\nNA,NA\n' >>e2.csv
for f in e e2; do
  "$E" score m.json $f.csv --missing drop-empty-rows --bic >$f.out 2>err.txt || fail "score $f: $(cat err.txt)"
done
check 'cmp -s e.out e2.out'
"$E" score m.json e2.csv --missing nan >/dev/null 2>err.txt
check 'grep -q "no observed value" err.txt'

# ---- 8. warnings and messages
printf 'NA,NA\n1,2\n3,4\n2,2.5\n0,1\n' >na.csv
ok "$E" fit na.csv -k 1 --missing nan -o na.json
check 'grep -q "warning: the first row of na.csv is read as a header, but it holds only missing values" err.txt'
printf ',a,b\n0,1,2\n1,3,4\n2,2,2.5\n3,0,1\n' >pd.csv
ok "$E" fit pd.csv -k 1 -o pd.json
check "grep -q \"warning: the first field of pd.csv's header is empty\" err.txt"
printf '1,2,\n3,4,\n2,2.5,\n0,1,\n' >tc.csv
ok "$E" fit tc.csv -k 1 --missing nan -o tc.json
check 'grep -q "warning: column 2 of tc.csv has no value on any row (a delimiter at the end of every line?)" err.txt'
printf 'a;b\n0,637;1\n' >dc.csv
bad 3 "decimal commas are not read" "" "$E" fit dc.csv -k 1
"$PY" -c "
import numpy as np
x = np.random.default_rng(0).normal(size=(50, 3)); x[7, 2] = np.nan; np.save('nan.npy', x)
y = np.random.default_rng(0).normal(size=(50, 3)); y[:, 1] = 4.0; np.save('const.npy', y)" ||
  fail "cannot make npy files"
bad 3 "NaN or Inf in nan.npy at row 7, column 2, counting from 0 (if NaN marks missing values, --missing nan" "" \
  "$E" fit nan.npy -k 2
check '[ "$(grep -o "row 7" err.txt | wc -l)" -eq 1 ]'
bad 4 "column 1 of const.npy is constant (4 on every row)" "" "$E" fit const.npy -k 2 --reg-covar 0
bad 4 "column 1 of const.npy is constant" "" "$E" fit const.npy -k 2 --reg-covar 0 --degenerate error

# ---- 9. help text agrees with docs/cli.md
"$E" --help >help.txt
check 'grep -q "6 fit stopped by SIGTERM/SIGINT" help.txt'
check 'grep -q "128+N killed by signal N" help.txt'
"$E" impute --help >ih.txt
check 'grep -q "imputation j (file .j) uses S + j - 1" ih.txt'
DOCS="$HERE/../../docs/cli.md"
check 'grep -q "emgmm sample MODEL -n N -o FILE \[--seed S\] \[--labels FILE\] \[--threads T\]" "$DOCS"'
check 'grep -q "imputation j (file \`.j\`) uses seed S + j − 1" "$DOCS"'
check 'grep -q "component 2 collapsed again after 3 reseeds (fewer distinct points" "$DOCS"'

checks_done newuser_cli
