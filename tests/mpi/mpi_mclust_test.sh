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
MPIRUN=${2:-}
if [ -z "$MPIRUN" ] || ! command -v "$MPIRUN" >/dev/null 2>&1; then
  exec bash "$(dirname "$0")/../common/skip.sh" "no mpirun or mpiexec (tools/install-deps.sh installs openmpi-bin)"
fi
if ! "$EMGMM" info | grep -q '^mpi: on'; then
  exec bash "$(dirname "$0")/../common/skip.sh" "emgmm built without MPI (tools/install-deps.sh installs libopenmpi-dev)"
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/emgmm_mpi19_XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
export OMP_NUM_THREADS=1
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
run() { "$MPIRUN" --allow-run-as-root --oversubscribe -np "$@"; }

cat >truth.json <<'J'
{"format": "emgmm-model", "version": 1, "covariance_type": "full", "n_components": 3,
 "n_features": 3, "weights": [0.3, 0.45, 0.25],
 "means": [[-4.1, 2.385, 0.5], [3.7, -1.25, 1.125], [0.25, 5.5, -3.3]],
 "covariances": [[[1.21, 0.33, 0.1], [0.33, 0.64, 0.0], [0.1, 0.0, 0.9]],
                 [[0.49, -0.07, 0.0], [-0.07, 1.44, 0.2], [0.0, 0.2, 1.1]],
                 [[2.1, 0.0, 0.3], [0.0, 0.8, 0.0], [0.3, 0.0, 1.7]]]}
J
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

# close A B: every number of the two model files agrees to 1e-10 relative, same n_iter
close() {
  "$PY" - "$1" "$2" <<'P'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
def flat(v):
    if isinstance(v, list):
        for x in v: yield from flat(x)
    else: yield v
worst = 0.0
for k in ("weights", "means", "covariances", "lower_bound"):
    for x, y in zip(flat(a[k]), flat(b[k]), strict=True):
        worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-3))
assert a["n_iter"] == b["n_iter"], (a["n_iter"], b["n_iter"])
print(f"worst relative difference {worst:.3g}")
sys.exit(0 if worst <= 1e-10 else 1)
P
}

for M in EII VEI EVI VEE EVE VVE EEV VEV VVV; do
  for R in lab0.csv lab1.csv soft.npy; do
    FIT=(fit data.npy -k 3 --model "$M" --init-resp "$R" --tol 0 --max-iter 8 -q)
    "$EMGMM" "${FIT[@]}" -o one.json 2>err.txt || { fail "$M $R: one process: $(cat err.txt)"; continue; }
    run 2 "$EMGMM" "${FIT[@]}" -o two.json 2>err.txt || { fail "$M $R: np 2: $(cat err.txt)"; continue; }
    [ -s err.txt ] && fail "$M $R np 2: unexpected stderr: $(cat err.txt)"
    close one.json two.json >/dev/null || fail "$M $R: np 2 model differs from one process's"
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
grep -q "row 1500" err.txt || fail "the bad responsibility's row is not named: $(cat err.txt)"
[ "$(grep -c "^emgmm:" err.txt)" = 1 ] || fail "not one message on stderr: $(cat err.txt)"
# the wrong number of rows is reported once, on every rank
head -n 2000 lab0.csv >short.csv
run 2 "$EMGMM" fit data.npy -k 3 --init-resp short.csv -q -o short.json 2>err.txt &&
  fail "a short --init-resp file was accepted under MPI"
grep -q "expected 2001 rows" err.txt || fail "short --init-resp: $(cat err.txt)"
[ "$(grep -c "^emgmm:" err.txt)" = 1 ] || fail "short --init-resp: not one message: $(cat err.txt)"

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
close best1.json best2.json >/dev/null || fail "select icl: the best model on 2 ranks differs from one process's"

if [ "$FAILS" -ne 0 ]; then
  echo "$FAILS failure(s)"
  exit 1
fi
echo "mpi mclust: all passed"
