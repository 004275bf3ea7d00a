#!/usr/bin/env bash
# mpi_mclust_test.sh — issue 19 under mpirun:  mpi_mclust_test.sh EMGMM MPIRUN
#   fit --init-resp: each rank takes its own rows of the responsibility file (an n x K matrix,
#     a 0..K-1 label column, R's 1..K labels) and 2 ranks give the one-process model (1e-10
#     relative) for closed-form and iterative mclust structures; a bad entry in rank 1's rows
#     is reported once, naming the file's row, with no model written;
#   select --criterion icl: the ICL of every (model, K) on 2 ranks is one process's (1e-10),
#     and so is the choice.
# Exit 77 (meson's SKIP) with the reason when mpirun or an MPI build is missing.
set -u
EMGMM=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../common/checks.sh
. "$HERE/../common/checks.sh"
# shellcheck source=../common/models.sh
. "$HERE/../common/models.sh"
# shellcheck source=../common/mpi.sh
. "$HERE/../common/mpi.sh"
mpi_require "$EMGMM" "${2:-}"
scratch mpi19
mpi_data "$EMGMM" # truth.json; its data.npy is replaced by 2001 rows below
"$EMGMM" sample truth.json -n 2001 --seed 19 -o data.npy || { echo "cannot sample"; exit 1; }
# starting partitions: labels 0..2 from a rough k-means fit, the same as 1..3, and soft
# responsibilities (rows not summing to 1, as me() allows)
"$EMGMM" fit data.npy -k 3 --max-iter 1 --seed 3 -q --labels lab0.csv -o /dev/null ||
  { echo "cannot make labels"; exit 1; }
"$PY" - <<'P' || { echo "cannot write the responsibility files"; exit 1; }
import numpy as np
lab = np.loadtxt("lab0.csv", dtype=np.int64)
assert set(lab) == {0, 1, 2}, set(lab)
np.savetxt("lab1.csv", lab + 1, fmt="%d")
rng = np.random.RandomState(5)
R = np.eye(3)[lab] * 0.8 + rng.uniform(0.0, 0.3, size=(len(lab), 3))
np.save("soft.npy", R)
R[1500, 2] = -0.25  # row 1500: in rank 1's rows of 2001
np.save("bad.npy", R)
P

for M in EII VEI EVI VEE EVE VVE EEV VEV VVV; do
  for R in lab0.csv lab1.csv soft.npy; do
    FIT=(fit data.npy -k 3 --model "$M" --init-resp "$R" --tol 0 --max-iter 8 -q)
    "$EMGMM" "${FIT[@]}" -o one.json 2>err.txt || { fail "$M $R: one process: $(cat err.txt)"; continue; }
    run 2 "$EMGMM" "${FIT[@]}" -o two.json 2>err.txt || { fail "$M $R: np 2: $(cat err.txt)"; continue; }
    [ -s err.txt ] && fail "$M $R np 2: unexpected stderr: $(cat err.txt)"
    check 'close one.json two.json >/dev/null' "$M $R: np 2 model differs from one process's"
  done
done
# 0-based and R's 1-based labels are the same start
"$EMGMM" fit data.npy -k 3 --model VEV --init-resp lab0.csv --tol 0 --max-iter 3 -q -o a.json &&
  run 2 "$EMGMM" fit data.npy -k 3 --model VEV --init-resp lab1.csv --tol 0 --max-iter 3 -q -o b.json &&
  close a.json b.json >/dev/null || fail "labels 1..K on 2 ranks differ from 0..K-1 on one"

# a negative responsibility in rank 1's rows: one message naming the row, no model
rm -f bad.json
run 2 "$EMGMM" fit data.npy -k 3 --model VEE --init-resp bad.npy -q -o bad.json 2>err.txt &&
  fail "a negative responsibility was accepted under MPI"
[ -e bad.json ] && fail "a model was written after a bad --init-resp under MPI"
check 'grep -q "row 1500" err.txt' "the bad responsibility's row is not named: $(cat err.txt)"
check '[ "$(grep -c "^emgmm:" err.txt)" = 1 ]' "not one message on stderr: $(cat err.txt)"
# the wrong number of rows is reported once, on every rank
head -n 2000 lab0.csv >short.csv
run 2 "$EMGMM" fit data.npy -k 3 --init-resp short.csv -q -o short.json 2>err.txt &&
  fail "a short --init-resp file was accepted under MPI"
check 'grep -q "expected 2001 rows" err.txt' "short --init-resp: $(cat err.txt)"
check '[ "$(grep -c "^emgmm:" err.txt)" = 1 ]' "short --init-resp: not one message: $(cat err.txt)"

# select --criterion icl: every ICL, and the choice, as one process's
SEL=(select data.npy -k 1:3 --model EII,VEE,EVE,VVV --criterion icl --init random --seed 4 --tol 0 --max-iter 6 -q)
"$EMGMM" "${SEL[@]}" --table one.json -o best1.json 2>err.txt || fail "select icl, one process: $(cat err.txt)"
run 2 "$EMGMM" "${SEL[@]}" --table two.json -o best2.json 2>err.txt || fail "select icl, np 2: $(cat err.txt)"
"$PY" - one.json two.json <<'P' || fail "select --criterion icl on 2 ranks differs from one process"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert a["best"] == b["best"] or (a["best"]["k"] == b["best"]["k"] and
    a["best"]["covariance_type"] == b["best"]["covariance_type"]), (a["best"], b["best"])
n = 0
for x, y in zip(a["fits"], b["fits"], strict=True):
    assert (x["k"], x["covariance_type"]) == (y["k"], y["covariance_type"])
    if x["status"] != "ok":
        continue
    for key in ("icl", "bic", "icl_mclust"):
        assert abs(x[key] - y[key]) <= 1e-10 * abs(x[key]), (x, y, key)
    assert x["icl"] > x["bic"] or x["k"] == 1, x
    n += 1
assert n >= 10, n
P
check 'close best1.json best2.json >/dev/null' \
  "select icl: the best model on 2 ranks differs from one process's"

checks_done mpi_mclust
