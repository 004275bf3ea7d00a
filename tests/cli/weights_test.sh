#!/usr/bin/env bash
# weights_test.sh — `emgmm fit --weights FILE` and `emgmm select --weights FILE` (issue 15):
#   weights_test.sh EMGMM
# Integer weights equal rows repeated that many times (fit: every number of the model to 1e-9
# relative from the same --init model, tol 0, fixed iterations, for each weights format: CSV
# with and without a header, TSV, .npy float64/float32, raw .f64; select: the table's
# log-likelihood, BIC and AIC for K = 1, which every init fits exactly, for each covariance
# type); a weighted checkpoint resumes byte for byte, and only with the same weights; every
# bad weights file is one line naming the file (and row), exit 3, no output file.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
EMGMM=$(realpath "$1")
# shellcheck source=../common/checks.sh
. "$HERE/../common/checks.sh"
# shellcheck source=../common/models.sh
. "$HERE/../common/models.sh"
scratch weights

cat >gen.json <<'J'
{"format": "emgmm-model", "version": 1, "covariance_type": "full", "n_components": 2,
 "n_features": 3, "weights": [0.4, 0.6],
 "means": [[-2.5, 1.25, 0.5], [1.75, -0.625, 2.385]],
 "covariances": [[[1.21, 0.33, 0.1], [0.33, 0.64, 0.0], [0.1, 0.0, 0.9]],
                 [[0.49, -0.07, 0.0], [-0.07, 1.44, 0.2], [0.0, 0.2, 1.1]]]}
J
# a rough start, so that EM moves
cat >init.json <<'J'
{"format": "emgmm-model", "version": 1, "covariance_type": "full", "n_components": 2,
 "n_features": 3, "weights": [0.5, 0.5],
 "means": [[-1.0, 0.0, 0.0], [1.0, 0.0, 1.0]],
 "covariances": [[[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]],
                 [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]]]}
J
"$EMGMM" sample gen.json -n 400 --seed 15 -o x.csv || { echo "cannot make data"; exit 1; }
# Integer weights 0..3 (seeded), the data with each row repeated that many times, and the
# weights in every format the data readers take (numpy-free: .npy written by hand).
"$PY" - <<'P' || { echo "cannot make weights"; exit 1; }
import random, struct
rows = open("x.csv").read().splitlines()
rng = random.Random(15)
w = [rng.randrange(4) for _ in rows]
w[0] = 3  # the first row repeated, the second dropped: both ends of the range
w[1] = 0
open("rep.csv", "w").write("".join((r + "\n") * k for r, k in zip(rows, w)))
open("w.csv", "w").write("".join(f"{k}\n" for k in w))
open("wh.csv", "w").write("weight\n" + "".join(f"{k}.0\n" for k in w))
open("w.tsv", "w").write("".join(f"{k}\n" for k in w))
def npy(path, code, values, shape):
    head = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (code, shape)
    head += " " * (63 - (len(head) + 10) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head.encode())
        f.write(struct.pack("<%d%s" % (len(values), {"<f8": "d", "<f4": "f"}[code]), *values))
npy("w.npy", "<f8", w, "(%d,)" % len(w))
npy("w32.npy", "<f4", w, "(%d, 1)" % len(w))
open("w.f64", "wb").write(struct.pack("<%dd" % len(w), *w))
# bad files: each breaks one rule
bad = list(w)
open("short.csv", "w").write("".join(f"{k}\n" for k in w[:-1]))
open("long.csv", "w").write("".join(f"{k}\n" for k in w + [1]))
open("two.csv", "w").write("".join(f"{k},1\n" for k in w))
bad[123] = -1.5
open("neg.csv", "w").write("".join(f"{k}\n" for k in bad))
bad[123] = "nan"
open("nan.csv", "w").write("".join(f"{k}\n" for k in bad))
bad[123] = "NA"
open("na.csv", "w").write("".join(f"{k}\n" for k in bad))
bad[123] = "abc"
open("text.csv", "w").write("".join(f"{k}\n" for k in bad))
bad[123] = float("inf")
npy("inf.npy", "<f8", [float(v) for v in bad], "(%d,)" % len(bad))
bad[123] = float("nan")
npy("nan.npy", "<f8", [float(v) for v in bad], "(%d,)" % len(bad))
open("zero.csv", "w").write("0\n" * len(w))
# the same count and sum, another weight on two rows: another weighted data set
other = list(w); other[5], other[6] = other[6] + 1, other[5] + 1
open("other.csv", "w").write("".join(f"{k}\n" for k in other))
P


# fit: weights = repeated rows, for every weights format and covariance type
for cov in full diag spherical tied; do
  "$PY" -c "
import json; m = json.load(open('init.json')); m['covariance_type'] = '$cov'
c = m['covariances']
m['covariances'] = {'full': c, 'tied': c[0], 'diag': [[2.0] * 3] * 2, 'spherical': [2.0, 2.0]}['$cov']
json.dump(m, open('init_$cov.json', 'w'))"
  ok "$EMGMM" fit rep.csv --init init_$cov.json --tol 0 --max-iter 25 -q -o rep_$cov.json
  for wf in w.csv wh.csv w.tsv w.npy w32.npy w.f64; do
    ok "$EMGMM" fit x.csv --init init_$cov.json --tol 0 --max-iter 25 -q --weights $wf -o wt.json
    check 'close rep_$cov.json wt.json 1e-9' "$cov, --weights $wf: the model differs from repeated rows"
  done
done
# and with the default init, only checked to run (k-means++ draws rows, so the start differs)
ok "$EMGMM" fit x.csv -k 2 --weights w.csv -q -o km.json
# weights change the fit: all-ones weights give the unweighted fit, integer weights do not
"$PY" -c "print('1\n' * 400, end='')" >ones.csv
ok "$EMGMM" fit x.csv --init init.json --tol 0 --max-iter 25 -q -o plain.json
ok "$EMGMM" fit x.csv --init init.json --tol 0 --max-iter 25 -q --weights ones.csv -o ones.json
check 'close plain.json ones.json 1e-9' "all-ones weights differ from the unweighted fit"
check '! close plain.json rep_full.json 1e-9 2>/dev/null' "integer weights left the fit unchanged"

# select: K = 1 is fitted exactly whatever the init, so the table equals repeated rows'
ok "$EMGMM" select rep.csv --k 1 --table sel_rep.csv -q
ok "$EMGMM" select x.csv --k 1 --weights w.npy --table sel_w.csv -q
CHECKS=$((CHECKS + 1))
"$PY" - sel_rep.csv sel_w.csv <<'P' || fail "select --weights: the table differs from repeated rows"
import csv, sys
a, b = (list(csv.DictReader(open(f))) for f in sys.argv[1:3])
assert len(a) == len(b) == 4, (len(a), len(b))
for ra, rb in zip(a, b):
    assert ra["covariance_type"] == rb["covariance_type"] and ra["status"] == rb["status"] == "ok", (ra, rb)
    for k in ("log_likelihood", "bic", "aic"):
        x, y = float(ra[k]), float(rb[k])
        assert abs(x - y) <= 1e-9 * max(abs(x), abs(y)), (k, x, y)
P
ok "$EMGMM" select x.csv --k 1:2 --covariance diag --weights w.csv -o selbest.json -q

# a weighted checkpoint: resumed byte for byte, only with weights, and only with the same ones
ok "$EMGMM" fit x.csv --init init.json --tol 0 --max-iter 20 -q --weights w.csv -o wfull.json
ok "$EMGMM" fit x.csv --init init.json --tol 0 --max-iter 8 -q --weights w.csv -o wpart.json --checkpoint wck.json
[ "$("$PY" -c "import json; c = json.load(open('wck.json'))['checkpoint']; print(c['version'], c['data']['weights'])")" = "2 True" ] ||
  fail "the weighted checkpoint does not record its weights"
cp wck.json wck2.json
ok "$EMGMM" fit x.csv --resume wck2.json --weights w.npy --max-iter 20 -q -o wres.json
same wfull.json wres.json
bad 2 "was written by a fit with --weights; resume it with the same --weights FILE" res.json \
  "$EMGMM" fit x.csv --resume wck.json --max-iter 20 -o res.json
bad 3 "is not the data the checkpoint wck.json was written for" res.json \
  "$EMGMM" fit x.csv --resume wck.json --weights other.csv --max-iter 20 -o res.json
ok "$EMGMM" fit x.csv --init init.json --tol 0 --max-iter 8 -q -o upart.json --checkpoint uck.json
bad 2 "was written by a fit without --weights; resume it without --weights" res.json \
  "$EMGMM" fit x.csv --resume uck.json --weights w.csv --max-iter 20 -o res.json

# bad weights files: exit 3, one line naming the file (and the row), no output
for cmd in fit select; do
  if [ $cmd = fit ]; then args=(fit x.csv --init init.json); else args=(select x.csv --k 1:2); fi
  bad 3 "weights file short.csv has 399 rows but x.csv has 400" out.json "$EMGMM" "${args[@]}" --weights short.csv -o out.json
  bad 3 "weights file long.csv has 401 rows but x.csv has 400" out.json "$EMGMM" "${args[@]}" --weights long.csv -o out.json
  bad 3 "weights file two.csv has 2 columns; expected one column" out.json "$EMGMM" "${args[@]}" --weights two.csv -o out.json
  bad 3 "weights file neg.csv: the weight of row 123 is negative (-1.5" out.json "$EMGMM" "${args[@]}" --weights neg.csv -o out.json
  bad 3 "weights file nan.csv: the weight of row 123 is NaN or missing" out.json "$EMGMM" "${args[@]}" --weights nan.csv -o out.json
  bad 3 "weights file na.csv: the weight of row 123 is NaN or missing" out.json "$EMGMM" "${args[@]}" --weights na.csv -o out.json
  bad 3 "weights file nan.npy: the weight of row 123 is NaN or missing" out.json "$EMGMM" "${args[@]}" --weights nan.npy -o out.json
  bad 3 "weights file inf.npy: the weight of row 123 is infinite" out.json "$EMGMM" "${args[@]}" --weights inf.npy -o out.json
  bad 3 "weights file zero.csv: all weights are 0" out.json "$EMGMM" "${args[@]}" --weights zero.csv -o out.json
  bad 3 "(text.csv:124:1)" out.json "$EMGMM" "${args[@]}" --weights text.csv -o out.json
  bad 3 "cannot open missing.csv" out.json "$EMGMM" "${args[@]}" --weights missing.csv -o out.json
done
ok "$EMGMM" fit x.csv --init init.json --tol 0 --max-iter 25 -q --weights - -o stdin.json <w.csv
check 'close rep_full.json stdin.json 1e-9' "--weights - (stdin) differs"
bad 2 "--weights -: DATA already comes from stdin" out.json "$EMGMM" fit - -k 2 --weights - -o out.json <x.csv
bad 2 "option '--weights' needs a value" out.json "$EMGMM" fit x.csv -k 2 -o out.json --weights

checks_done weights
