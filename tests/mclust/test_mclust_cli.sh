#!/usr/bin/env bash
# test_mclust_cli.sh EMGMM — the mclust structures end to end (issue 19): select with
# --covariance mclust names and a degenerate (model, K) that must be a failed row (NA in the
# mclustBIC-style matrix), not the end of the sweep; fit --init-resp with R's 1..K labels;
# the model file's "model" field read back.
set -u
EMGMM=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../common/checks.sh
. "$HERE/../common/checks.sh"
scratch mclust
T=$PWD

# 20 points on the line y = 2x + 1 (a singular cluster) and 20 scattered far away
/usr/bin/python3 - "$T" <<'PY'
import math, sys
d = sys.argv[1]
with open(d + "/x.csv", "w") as f, open(d + "/lab1.csv", "w") as g:
    for i in range(20):
        x = i * 0.37
        f.write(f"{x!r},{2 * x + 1!r}\n"); g.write("1\n")
    for i in range(20):
        f.write(f"{100 + 2 * math.sin(i)!r},{50 + math.cos(3 * i)!r}\n"); g.write("2\n")
PY

"$EMGMM" select "$T/x.csv" -k 1:2 --covariance EEV,VVI --reg-covar 0 --table "$T/t.csv" \
    >"$T/out.txt" 2>"$T/err.txt"
rc=$?
[ $rc -eq 0 ] || fail "select exited $rc: $(cat "$T/err.txt")"
grep -q '^2,EEV,failed,' "$T/t.csv" || fail "no failed row for EEV K=2: $(cat "$T/t.csv")"
grep -q '^2,diag,ok,' "$T/t.csv" || fail "VVI K=2 should fit: $(cat "$T/t.csv")"
head -1 "$T/t.csv" | grep -q 'bic_mclust' || fail "no bic_mclust column with an mclust model"
grep -q 'as mclustBIC' "$T/out.txt" || fail "no mclustBIC-style matrix"
awk '$1 == "2" && NF == 3 && $2 == "NA"' "$T/out.txt" | grep -q NA || fail "EEV K=2 not NA in the matrix: $(cat "$T/out.txt")"
# BIC in mclust's sign is minus scikit-learn's
awk -F, 'NR > 1 && $3 == "ok" { d = $4 + $13; if (d > 1e-9 || d < -1e-9) bad = 1 } END { exit bad }' "$T/t.csv" ||
    fail "bic_mclust is not -bic"

# fit from R's 1..K labels; --model spelling; the model file records the structure
"$EMGMM" fit "$T/x.csv" -k 2 --model VEI --init-resp "$T/lab1.csv" --reg-covar 1e-3 -o "$T/m.json" -q ||
    fail "fit --init-resp failed"
grep -q '"model": "VEI"' "$T/m.json" || fail "model file lacks \"model\": \"VEI\""
grep -q '"covariance_type": "diag"' "$T/m.json" || fail "VEI not stored as diag"
"$EMGMM" fit "$T/x.csv" --init "$T/m.json" --max-iter 2 -o "$T/m2.json" -q || fail "refit from the VEI model failed"
grep -q '"model": "VEI"' "$T/m2.json" || fail "the structure was lost on reading the model"
# a label column with both 0 and K is refused, naming the file
printf '0\n2\n' >"$T/bad.csv"
for i in $(seq 38); do echo 1; done >>"$T/bad.csv"
"$EMGMM" fit "$T/x.csv" -k 2 --init-resp "$T/bad.csv" -o "$T/m3.json" 2>"$T/err3.txt" &&
    fail "labels 0 and K accepted"
grep -q 'bad.csv' "$T/err3.txt" || fail "error does not name the file: $(cat "$T/err3.txt")"
[ -e "$T/m3.json" ] && fail "a model was written after bad --init-resp"

checks_done mclust_cli
