#!/usr/bin/env bash
# test_select_cli.sh — end-to-end test of `emgmm select`: on data drawn from a known,
# well-separated diagonal mixture (K=3) it picks K=3 diag, writes the best model and a valid
# CSV/JSON table atomically, lists impossible fits as failed without stopping, and refuses bad
# options.  Usage: test_select_cli.sh /path/to/emgmm   (exit 77 = skipped: no select command)
set -u
EMGMM=${1:-${EMGMM:-emgmm}}
# meson passes a path relative to the build directory; the test works in a temporary one
case "$EMGMM" in
/*) ;;
*/*) EMGMM="$PWD/$EMGMM" ;;
esac
"$EMGMM" select --help >/dev/null 2>&1 || { echo "emgmm select not available: skipped"; exit 77; }

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../common/checks.sh
. "$HERE/../common/checks.sh"
scratch select_cli

# The truth: three components far apart, each with its own anisotropic diagonal covariance, so
# that only 'diag' describes them with few parameters.
cat > truth.json <<'EOF'
{"format": "emgmm-model", "version": 1, "covariance_type": "diag", "n_components": 3,
 "n_features": 4, "weights": [0.5, 0.3, 0.2],
 "means": [[0, 0, 0, 0], [8, -6, 3, 5], [-7, 5, 9, -4]],
 "covariances": [[0.25, 4.0, 1.0, 0.64], [2.25, 0.16, 0.81, 4.84], [0.49, 1.44, 6.25, 0.25]]}
EOF
"$EMGMM" sample truth.json -n 3000 --seed 7 -o data.csv || { echo "FAIL: emgmm sample"; exit 1; }

# ---- the sweep picks the truth
"$EMGMM" select data.csv --k 1:5 --covariance all --n-init 2 --seed 3 --table table.csv \
    -o best.json > out.txt 2> err.txt
rc=$?
[ $rc -eq 0 ] || fail "select exited $rc: $(cat err.txt)"
grep -q '"covariance_type": *"diag"' best.json || fail "best model is not diag: $(head -c 300 best.json)"
grep -q '"n_components": *3[,}]' best.json || fail "best model does not have 3 components"
grep -q 'lower is better' out.txt || fail "the printed table does not say which way is better"
grep -q "mclust" out.txt || fail "the printed table does not warn about mclust's sign"
grep -q '^best: K=3, covariance diag' out.txt || fail "printed best is not K=3 diag: $(grep best out.txt)"

# ---- the CSV table: header, one row per (K, type), numbers, one best row holding the minimum
header='k,covariance_type,status,bic,aic,log_likelihood,n_parameters,converged,n_iter,best,error'
[ "$(head -n 1 table.csv)" = "$header" ] || fail "CSV header is '$(head -n 1 table.csv)'"
[ "$(wc -l < table.csv)" -eq 21 ] || fail "CSV has $(wc -l < table.csv) lines, want 1 + 5x4"
awk -F, 'NR > 1 && (NF != 11 || $3 != "ok" || $4 + 0 != $4 || $6 + 0 >= 0 || $9 < 1) { bad = 1 }
         END { exit bad }' table.csv || fail "CSV has malformed or failed rows: $(cat table.csv)"
for k in 1 2 3 4 5; do
    for t in full tied diag spherical; do
        [ "$(grep -c "^$k,$t,ok," table.csv)" -eq 1 ] || fail "CSV lacks the row K=$k $t"
    done
done
[ "$(awk -F, 'NR > 1 && $10 == 1' table.csv | wc -l)" -eq 1 ] || fail "CSV marks not exactly one best row"
awk -F, 'NR > 1 { if (min == "" || $4 < min) { min = $4; at = $1 "," $2 } if ($10 == 1) best = $1 "," $2 }
         END { if (at != "3,diag" || best != at) { print "min at " at ", best " best; exit 1 } }' \
    table.csv || fail "the best CSV row is not the lowest BIC at K=3 diag"
ls -A | grep -q '^\.' && fail "temporary files left behind: $(ls -A)"

# ---- stdout carries only the machine-readable output when it is asked for there
"$EMGMM" select data.csv --k 3 --covariance diag --table - > pipe.csv 2> err.txt ||
    fail "select --table -: $(cat err.txt)"
[ "$(head -n 1 pipe.csv)" = "$header" ] && [ "$(wc -l < pipe.csv)" -eq 2 ] ||
    fail "select --table - wrote '$(cat pipe.csv)'"
grep -q 'lower is better' err.txt || fail "with --table -, the printed table is not on stderr"
"$EMGMM" select data.csv --k 3 --covariance diag -o - > pipe.json 2> /dev/null ||
    fail "select -o - failed"
grep -q '"format": "emgmm-model"' pipe.json && ! grep -q 'lower is better' pipe.json ||
    fail "select -o - did not write just the model to stdout"

# ---- AIC and a JSON table (checked with Python's json module when there is one)
"$EMGMM" select data.csv --k 2:4 --covariance diag,full --criterion aic --table table.json -q \
    > /dev/null 2> err.txt || fail "select --criterion aic --table table.json: $(cat err.txt)"
grep -q '"criterion": "aic"' table.json || fail "JSON table does not name the criterion"
if [ -x /usr/bin/python3 ]; then
    /usr/bin/python3 - table.json <<'EOF' || fail "JSON table is not valid or not consistent"
import json, sys
t = json.load(open(sys.argv[1]))
assert t["format"] == "emgmm-select" and t["lower_is_better"] is True
fits = t["fits"]
assert len(fits) == 6 and all(f["status"] == "ok" for f in fits)
best = min(fits, key=lambda f: f["aic"])
assert best["best"] and sum(f["best"] for f in fits) == 1
assert (t["best"]["k"], t["best"]["covariance_type"]) == (best["k"], best["covariance_type"])
EOF
fi

# ---- issue 21: the sweep runs k-means once per K and shares it with every type's fit; each
# (type, K) is still what 'emgmm fit' gives, byte for byte (n_init 2: both initialisations'
# centres are shared), and the table's rows are those of a one-type sweep
for k in 1 2 4; do
    for t in full tied diag spherical VEI; do
        "$EMGMM" select data.csv --k $k --covariance $t --n-init 2 --seed 11 --threads 2 \
            -o sel.json -q 2> err.txt || fail "select K=$k $t: $(cat err.txt)"
        "$EMGMM" fit data.csv -k $k --covariance $t --init kmeans --n-init 2 --seed 11 --threads 2 \
            -o fit.json -q 2> err.txt || fail "fit K=$k $t: $(cat err.txt)"
        cmp -s sel.json fit.json || fail "select and fit differ at K=$k $t: $(diff sel.json fit.json | head -5)"
    done
done
"$EMGMM" select data.csv --k 1:4 --covariance all --n-init 2 --seed 11 --table all.csv -q ||
    fail "select --k 1:4 all"
for t in full tied diag spherical; do
    "$EMGMM" select data.csv --k 1:4 --covariance $t --n-init 2 --seed 11 --table one.csv -q ||
        fail "select --k 1:4 $t"
    [ "$(grep ",$t," all.csv | cut -d, -f1-9)" = "$(grep ",$t," one.csv | cut -d, -f1-9)" ] ||
        fail "the $t rows of the four-type sweep differ from a $t-only sweep"
done

# ---- --jobs: fits at a time, each on threads/jobs threads: the same table, pick and printed
# rows (in order) as one fit at a time on that many threads
"$EMGMM" select data.csv --k 1:5 --seed 4 --threads 2 --jobs 2 --table j2.csv -o j2.json \
    > j2.txt 2> err.txt || fail "select --jobs 2: $(cat err.txt)"
"$EMGMM" select data.csv --k 1:5 --seed 4 --threads 1 --table j1.csv -o j1.json > j1.txt \
    2> err.txt || fail "select --threads 1: $(cat err.txt)"
cmp -s j1.csv j2.csv || fail "--jobs 2 table differs from --threads 1: $(diff j1.csv j2.csv | head -4)"
cmp -s j1.json j2.json || fail "--jobs 2 best model differs from --threads 1"
[ "$(awk '{print $1, $2, $3}' j1.txt | grep -v '^best')" = "$(awk '{print $1, $2, $3}' j2.txt | grep -v '^best')" ] ||
    fail "--jobs 2 printed rows differ: $(diff j1.txt j2.txt | head -4)"
"$EMGMM" select data.csv --k 1:3 --jobs 3 --threads 2 -q --table j3.csv 2> err.txt ||
    fail "select --jobs 3 on 2 threads: $(cat err.txt)"
[ "$(wc -l < j3.csv)" -eq 13 ] || fail "--jobs 3 table has $(wc -l < j3.csv) lines"
# --jobs auto (the default, issue 21): on 2 threads with 5 K values, two jobs of one thread (the
# sweep of --threads 1, byte for byte); with 3 K values (fewer than two per job), one job of 2
"$EMGMM" select data.csv --k 1:5 --seed 4 --threads 2 --table ja.csv -o ja.json > ja.txt \
    2> err.txt || fail "select --jobs auto: $(cat err.txt)"
cmp -s j1.csv ja.csv || fail "--jobs auto table differs from --threads 1: $(diff j1.csv ja.csv | head -4)"
cmp -s j1.json ja.json || fail "--jobs auto best model differs from --threads 1"
"$EMGMM" select data.csv --k 1:3 --seed 4 --threads 2 --jobs auto -q --table ja3.csv -o ja3.json ||
    fail "select --k 1:3 --jobs auto"
"$EMGMM" select data.csv --k 1:3 --seed 4 --threads 2 --jobs 1 -q --table jo3.csv -o jo3.json ||
    fail "select --k 1:3 --jobs 1"
cmp -s ja3.csv jo3.csv && cmp -s ja3.json jo3.json ||
    fail "--jobs auto with 3 K values on 2 threads is not one job of 2 threads"

# ---- impossible fits are rows of the table, not the end of the sweep
head -n 6 data.csv > small.csv
"$EMGMM" select small.csv --k 1,7 --covariance spherical --table small.csv.out.csv -q \
    > /dev/null 2> err.txt
rc=$?
[ $rc -eq 0 ] || fail "select with one impossible K exited $rc: $(cat err.txt)"
grep -q '^7,spherical,failed,' small.csv.out.csv || fail "K=7 on 6 rows is not listed as failed"
grep -q '^1,spherical,ok,' small.csv.out.csv || fail "K=1 on 6 rows is not listed as ok"
grep -q 'fits failed' err.txt || fail "no note on stderr about the failed fit"
"$EMGMM" select small.csv --k 7:8 -q > /dev/null 2>&1
rc=$?
[ $rc -eq 3 ] || fail "select where every K exceeds the rows exited $rc, want 3"

# ---- usage errors exit 2 with one line
for args in "--k 0" "--k 4:2" "--covariance nope" "--criterion mdl" "--table t.npy" "--bogus" \
    "-o - --table -" "--jobs 0"; do
    # shellcheck disable=SC2086
    "$EMGMM" select data.csv $args > /dev/null 2> err.txt
    rc=$?
    [ $rc -eq 2 ] || fail "select $args exited $rc, want 2"
    [ "$(wc -l < err.txt)" -eq 1 ] || fail "select $args printed $(wc -l < err.txt) error lines"
done

checks_done family_select_cli
