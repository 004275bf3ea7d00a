#!/usr/bin/env bash
# degenerate_cli.sh EMGMM — the degenerate-data options end to end: reseeds in
# --progress, the JSON log and the summary; --degenerate error; the exit status of
# EMGMM_ERR_DEGENERATE with no output left; --var-floor; select; blocked sampling.
set -u
EMGMM=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../common/checks.sh
. "$HERE/../common/checks.sh"
scratch degen

# Two clusters from a model, and an initial model whose third component is 1e4 away.
cat >two.json <<'EOF'
{"format": "emgmm-model", "version": 1, "covariance_type": "full", "n_components": 2, "n_features": 2,
 "weights": [0.6, 0.4], "means": [[-2.0, 0.5], [6.0, 0.0]],
 "covariances": [[[1.3, 0.2], [0.2, 0.9]], [[0.8, 0.0], [0.0, 1.1]]]}
EOF
cat >far.json <<'EOF'
{"format": "emgmm-model", "version": 1, "covariance_type": "full", "n_components": 3, "n_features": 2,
 "weights": [0.45, 0.45, 0.1], "means": [[-2.0, 0.5], [6.0, 0.0], [10000.0, 10000.0]],
 "covariances": [[[1, 0], [0, 1]], [[1, 0], [0, 1]], [[1, 0], [0, 1]]]}
EOF
"$EMGMM" sample two.json -n 800 --seed 2385 -o x.csv || { echo "cannot make data"; exit 1; }

# reseed (the default): reported on --progress, in the log and in the summary
"$EMGMM" fit x.csv --init far.json -o r.json --progress --log r.log 2>r.err
rc=$?
check '[ $rc -eq 0 ]' "fit with a far component failed: $(cat r.err)"
check 'grep -q "^emgmm: iter    1: component 2 was empty or collapsed; reseeded" r.err' "no reseed line on --progress: $(cat r.err)"
check 'grep -q "1 component reseeded" r.err' "summary lacks the reseed count: $(tail -1 r.err)"
check '"$PY" -c "import json,sys; ev=[json.loads(l) for l in open(\"r.log\")]; r=[e for e in ev if e[\"event\"]==\"reseed\"]; d=ev[-1]; s=ev[0]; sys.exit(not (len(r)==1 and r[0][\"iter\"]==1 and r[0][\"component\"]==2 and d[\"reseeds\"]==1 and s[\"degenerate\"]==\"reseed\" and s[\"var_floor\"]==0))"' "log events wrong: $(cat r.log)"
# error: scikit-learn's behaviour, no reseed, a worse fit
"$EMGMM" fit x.csv --init far.json -o e.json --degenerate error --log e.log 2>e.err
rc=$?
check '[ $rc -eq 0 ]' "fit --degenerate error failed: $(cat e.err)"
check '! grep -q reseeded e.err' "error policy reseeded"
check '"$PY" -c "import json,sys; r=json.load(open(\"r.json\")); e=json.load(open(\"e.json\")); sys.exit(not (r[\"lower_bound\"] > e[\"lower_bound\"] and min(r[\"weights\"]) > 1e-3 and min(e[\"weights\"]) < 1e-12))"' "reseed did not fit better than error"

# a fit checkpointed right after a reseed resumes exactly: the checkpoint keeps the reseed, so
# the resumed fit does not declare convergence across it either (tol so large that any change
# passes: the uninterrupted fit stops at iteration 3)
for tol in 1e300 1e-3; do
  rm -f full.json part.json res.json ck.json
  "$EMGMM" fit x.csv --init far.json --tol $tol -q -o full.json
  "$EMGMM" fit x.csv --init far.json --tol $tol --max-iter 1 -q --checkpoint ck.json -o part.json
  "$EMGMM" fit x.csv --resume ck.json --max-iter 100 -q -o res.json
  rc=$?
  check '[ $rc -eq 0 ] && cmp -s full.json res.json' "resume after a reseed (tol $tol) differs"
  check '"$PY" -c "import json,sys; c=json.load(open(\"ck.json\"))[\"checkpoint\"]; sys.exit(c[\"reseeds\"][0][:2] != [1, 2])"' "checkpoint lacks the reseed"
done
check '"$PY" -c "import json,sys; sys.exit(json.load(open(\"full.json\"))[\"n_iter\"] < 3)"' "converged across a reseed"
# a checkpoint whose reseed record is out of range is refused, naming the field
"$PY" -c "import json; c=json.load(open('ck.json')); c['checkpoint']['reseeds']=[[1, 99, -3.5]]; json.dump(c, open('ckbad.json', 'w'))"
"$EMGMM" fit x.csv --resume ckbad.json -o bad.json >out.txt 2>err.txt
rc=$?
check '[ $rc -eq 3 ] && grep -q "checkpoint.reseeds\[0\]" err.txt && [ ! -e bad.json ]' "bad reseed record: exit $rc: $(cat err.txt)"

# fewer distinct points than components: exit 4 (numerical), one line, no output file
for i in $(seq 1 20); do echo "0,-0.5"; echo "2.385,1"; echo "4.77,-0.5"; done >few.csv
"$EMGMM" fit few.csv -k 5 -o few.json >out.txt 2>err.txt
rc=$?
check '[ $rc -eq 4 ]' "fewer distinct points: exit $rc, expected 4: $(cat err.txt)"
check 'grep -q "fewer distinct points than components" err.txt' "message: $(cat err.txt)"
check '[ "$(wc -l <err.txt)" -eq 1 ] && [ ! -e few.json ]' "more than one line, or output left"
# ... the scikit-learn behaviour keeps dead components instead
"$EMGMM" fit few.csv -k 5 -o few.json --degenerate error -q
rc=$?
check '[ $rc -eq 0 ] && [ -e few.json ]' "fit --degenerate error on few points failed"

# option errors
for a in "--degenerate bogus" "--var-floor 2" "--var-floor -1" "--var-floor nan"; do
  "$EMGMM" fit x.csv -k 2 $a -o o.json >out.txt 2>err.txt
  rc=$?
  check '[ $rc -eq 2 ] && [ ! -e o.json ]' "fit $a: exit $rc, expected 2"
done

# the variance floor: duplicates with --reg-covar 0 fail without it, fit with it
for i in $(seq 1 40); do echo "20.385,-15"; done >dup.csv
head -60 x.csv >>dup.csv
"$EMGMM" fit dup.csv -k 3 --reg-covar 0 --degenerate error -o d.json >out.txt 2>err.txt
rc=$?
check '[ $rc -eq 4 ] && grep -q "not positive definite" err.txt' "duplicates with reg 0: $(cat err.txt)"
"$EMGMM" fit dup.csv -k 3 --reg-covar 0 --var-floor 1e-3 -o d.json -q
rc=$?
check '[ $rc -eq 0 ] && [ -e d.json ]' "duplicates with --var-floor failed"

# select: the options reach every fit, the JSON table records them; DEGENERATE fits are rows
"$EMGMM" select few.csv --k 2:4 --covariance full --table s.json -q --var-floor 1e-4 >out.txt 2>err.txt
rc=$?
check '[ $rc -eq 0 ]' "select failed: $(cat err.txt)"
check '"$PY" -c "import json,sys; t=json.load(open(\"s.json\")); f=t[\"fits\"]; sys.exit(not (t[\"params\"][\"degenerate\"]==\"reseed\" and t[\"params\"][\"var_floor\"]==1e-4 and f[0][\"status\"]==\"ok\" and f[0][\"reseeds\"]==0 and f[2][\"status\"]==\"failed\"))"' "select table: $(cat s.json)"

# sample: written in blocks of 65536 rows; a longer run extends a shorter one, and both
# tables appear whole
"$EMGMM" sample two.json -n 70000 --seed 7 -o big.npy --labels big_l.csv
rc=$?
check '[ $rc -eq 0 ] && [ "$(wc -l <big_l.csv)" -eq 70000 ]' "sample in blocks failed"
"$EMGMM" sample two.json -n 65537 --seed 7 -o p.csv
"$EMGMM" sample two.json -n 100 --seed 7 -o q.csv
check 'head -100 p.csv | cmp -s - q.csv' "a larger -n does not extend a smaller one"
check '[ -z "$(ls -a | grep "^\..*\.[A-Za-z0-9]\{6\}$")" ]' "a temporary file was left"

checks_done degenerate_cli
