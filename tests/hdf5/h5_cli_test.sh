#!/usr/bin/env bash
# h5_cli_test.sh — HDF5 in and out through the emgmm tool (issue 22):
#   h5_cli_test.sh EMGMM            (one process)
#   h5_cli_test.sh EMGMM MPIRUN     (the MPI part only, meson suite mpi)
# Data: a fit from an HDF5 dataset (contiguous, chunked + gzip + shuffle, float32, in a group,
# named by --dataset or file.h5:/X, or the only dataset) is byte-identical to the fit from
# the same array as .npy.  Models: -o m.h5 holds the JSON model's arrays bit for bit (read by
# h5py, without emgmm) and every command gives the same output from either.  Outputs:
# predict, --proba, score --per-sample, impute and sample write .h5 datasets equal to their
# .npy outputs.  Hostile files (truncated, not HDF5, missing dataset, 1-D, 3-D, integer,
# string, NaN without --missing nan, 0 rows): exit 3, one line naming file and dataset, no
# output file.  With MPIRUN: 2 ranks on an HDF5 input give one process's model to 1e-10 and
# the same .h5 outputs, and a NaN in rank 1's rows ends both with one message.
set -u
EMGMM=$(realpath "$1")
MPIRUN=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../common/checks.sh
. "$HERE/../common/checks.sh"
# shellcheck source=../common/mpi.sh
. "$HERE/../common/mpi.sh"
scratch h5
export OMP_NUM_THREADS=1

"$PY" - <<'P' || { echo "cannot make the fixtures (h5py)"; exit 1; }
import numpy as np, h5py
rng = np.random.default_rng(2385)
X = np.vstack([rng.normal(-2.5, 1.125, (700, 4)), rng.normal(3.75, 0.8, (500, 4))])
X[:, 1] += 0.375 * X[:, 0]
np.save("x.npy", X)
np.save("x32.npy", X.astype(np.float32))
with h5py.File("x.h5", "w") as f:
    f["X"] = X
    f.create_dataset("grp/Xz", data=X, chunks=(100, 4), compression="gzip", shuffle=True)
    f["X32"] = X.astype(np.float32)
    f.create_dataset("X32z", data=X.astype(np.float32), chunks=(64, 2), compression="gzip")
with h5py.File("only.h5", "w") as f:
    f["whatever"] = X
with h5py.File("bad.h5", "w") as f:
    f["one"] = X[:, 0]
    f["three"] = X.reshape(2, 600, 4)
    f["int"] = (X * 10).astype(np.int32)
    f["str"] = np.array([[b"1.5", b"2"]] * 4)
    f["empty"] = np.zeros((0, 4))
    Xn = X.copy(); Xn[901, 2] = np.nan
    f["nan"] = Xn
data = open("x.h5", "rb").read()
open("trunc.h5", "wb").write(data[: len(data) // 3])
open("text.h5", "w").write("0.5,1.5\n2.5,3.5\n")
P

FIT=(fit --seed 3 -k 2 --tol 0 --max-iter 12 -q)
"$EMGMM" "${FIT[@]}" x.npy -o ref.json || { echo "fit from .npy failed"; exit 1; }
"$EMGMM" "${FIT[@]}" x32.npy -o ref32.json || { echo "fit from float32 .npy failed"; exit 1; }
for spec in "x.h5:/X" "x.h5 --dataset /X" "x.h5:/grp/Xz" "x.h5 --dataset grp/Xz" "only.h5"; do
  # shellcheck disable=SC2086
  "$EMGMM" "${FIT[@]}" $spec -o h.json || fail "fit $spec"
  cmp -s ref.json h.json || fail "fit from $spec differs from the .npy fit"
  rm -f h.json
done
if [ -z "$MPIRUN" ]; then
for spec in "x.h5:/X32" "x.h5:/X32z"; do
  "$EMGMM" "${FIT[@]}" "$spec" -o h.json || fail "fit $spec"
  cmp -s ref32.json h.json || fail "fit from $spec differs from the float32 .npy fit"
  rm -f h.json
done
# float64 file read as float32 converts as the .npy reader does
"$EMGMM" "${FIT[@]}" x.npy --dtype float32 -o a.json && "$EMGMM" "${FIT[@]}" x.h5:/grp/Xz --dtype float32 -o b.json &&
  cmp -s a.json b.json || fail "--dtype float32 from HDF5 differs from .npy"
fi

# ---- the model as HDF5 -----------------------------------------------------------------
"$EMGMM" "${FIT[@]}" x.npy -o m.h5 || fail "fit -o m.h5"
"$PY" - <<'P' || fail "h5py reading m.h5 against ref.json"
import json, h5py, numpy as np
j = json.load(open("ref.json"))
with h5py.File("m.h5", "r") as f:
    a = f.attrs
    assert a["format"] == "emgmm-model" and a["version"] == 1, dict(a)
    assert a["covariance_type"] == "full" and a["n_components"] == 2 and a["n_features"] == 4
    assert bool(a["converged"]) == j["converged"] and a["n_iter"] == j["n_iter"]
    assert a["lower_bound"] == j["lower_bound"] and a["seed"] == j["seed"] and a["init"] == j["init"]
    for k in ("weights", "means", "covariances"):
        v = f[k][()]
        assert v.dtype == np.float64 and np.array_equal(v, np.array(j[k])), k  # bit for bit
    # precisions_cholesky as scikit-learn defines it: U upper with U Uᵀ = Σ⁻¹
    for c, u in zip(f["covariances"][()], f["precisions_cholesky"][()]):
        assert np.allclose(np.triu(u), u) and np.allclose(u @ u.T @ c, np.eye(4), atol=1e-9)
P
"$EMGMM" score ref.json x.npy --per-sample -o s_json.npy >/dev/null &&
  "$EMGMM" score m.h5 x.npy --per-sample -o s_h5.npy >/dev/null &&
  cmp -s s_json.npy s_h5.npy || fail "score with m.h5 differs from m.json"
"$EMGMM" predict ref.json x.npy --proba -o p_json.npy && "$EMGMM" predict m.h5 x.npy --proba -o p_h5.npy &&
  cmp -s p_json.npy p_h5.npy || fail "predict --proba with m.h5 differs from m.json"
cp m.h5 model_without_extension
"$EMGMM" predict model_without_extension x.npy -o l_any.npy || fail "a model recognised by content"
"$EMGMM" fit x.npy --init m.h5 --tol 0 --max-iter 3 -q -o i1.json &&
  "$EMGMM" fit x.npy --init ref.json --tol 0 --max-iter 3 -q -o i2.json &&
  cmp -s i1.json i2.json || fail "fit --init m.h5 differs from --init m.json"

# ---- outputs as HDF5 -------------------------------------------------------------------
"$EMGMM" predict m.h5 x.h5:/X -o l.h5 && "$EMGMM" predict m.h5 x.npy -o l.npy || fail "predict -o .h5"
"$EMGMM" predict m.h5 x.h5:/X --proba -o p.h5:/out/proba || fail "predict --proba -o .h5:/name"
"$EMGMM" score m.h5 x.h5:/X --per-sample -o s.h5 >/dev/null || fail "score -o .h5"
"$EMGMM" impute m.h5 x.h5:/X -o imp.h5 && "$EMGMM" impute m.h5 x.npy -o imp.npy || fail "impute -o .h5"
"$EMGMM" sample m.h5 -n 321 --seed 5 -o smp.h5 --labels sl.h5 &&
  "$EMGMM" sample m.h5 -n 321 --seed 5 -o smp.npy --labels sl.npy || fail "sample -o .h5"
"$PY" - <<'P' || fail "h5py reading emgmm's .h5 outputs"
import h5py, numpy as np
def h(f, k):
    with h5py.File(f, "r") as g:
        return g[k][()]
assert h("l.h5", "labels").dtype == np.int32
assert np.array_equal(h("l.h5", "labels"), np.load("l.npy"))
assert np.array_equal(h("p.h5", "out/proba"), np.load("p_h5.npy"))
assert np.array_equal(h("s.h5", "data"), np.load("s_h5.npy"))
assert np.array_equal(h("imp.h5", "data"), np.load("imp.npy"))
assert np.array_equal(h("smp.h5", "data"), np.load("smp.npy"))
assert np.array_equal(h("sl.h5", "labels"), np.load("sl.npy"))
P
# what emgmm writes it reads: the sampled .h5 fits as the .npy does
"$EMGMM" "${FIT[@]}" smp.h5 -o r1.json && "$EMGMM" "${FIT[@]}" smp.npy -o r2.json &&
  cmp -s r1.json r2.json || fail "fit of emgmm's own .h5 output"

# ---- hostile files: exit 3, one line naming file and dataset, no output ---------------
if [ -z "$MPIRUN" ]; then
hostile() { # hostile SPEC FILE DATASET
  for cmd in fit predict; do
    rm -f out.json out.h5 err
    if [ $cmd = fit ]; then
      "$EMGMM" fit -k 2 -q "$1" -o out.json 2>err; rc=$?
    else
      "$EMGMM" predict m.h5 "$1" -o out.h5 2>err; rc=$?
    fi
    [ $rc = 3 ] || fail "$cmd $1: exit $rc, expected 3 ($(cat err))"
    [ "$(wc -l <err)" = 1 ] || fail "$cmd $1: not one line: $(cat err)"
    grep -q "$2" err && grep -q -- "$3" err || fail "$cmd $1: message does not name $2 and $3: $(cat err)"
    [ ! -e out.json ] && [ ! -e out.h5 ] || fail "$cmd $1 left an output file"
    ls -a | grep -q '^\.out' && fail "$cmd $1 left a temporary file"
  done
}
hostile trunc.h5:/X trunc.h5 /X
"$EMGMM" fit -k 2 -q x.npy --dataset /X -o out.json 2>err; rc=$?
[ $rc = 2 ] && grep -q "not an HDF5 file" err && [ ! -e out.json ] || fail "--dataset on .npy: exit $rc, $(cat err)"
hostile text.h5:/X text.h5 /X
hostile x.h5:/nope x.h5 /nope
hostile bad.h5:/one bad.h5 "/one.*1-D"
hostile bad.h5:/three bad.h5 "/three.*3-D"
hostile bad.h5:/int bad.h5 "/int.*integer"
hostile bad.h5:/str bad.h5 "/str.*string"
hostile bad.h5:/nan bad.h5 "/nan.*NaN at row 901, column 2"
hostile bad.h5:/empty bad.h5 "/empty.*0 rows"
"$EMGMM" fit -k 2 -q bad.h5:/nan --missing nan -o out.json || fail "NaN with --missing nan"
rm -f out.json
# a bad HDF5 model: exit 3, named, nothing written
head -c 2000 m.h5 >mtrunc.h5
"$EMGMM" predict mtrunc.h5 x.npy -o out.npy 2>err; rc=$?
[ $rc = 3 ] && grep -q mtrunc.h5 err && [ ! -e out.npy ] || fail "truncated model: exit $rc, $(cat err)"
fi

# ---- MPI: each rank reads its own hyperslab -------------------------------------------
if [ -n "$MPIRUN" ]; then
  # with parallel HDF5 installed the MPI build reads through MPI-IO (collective hyperslabs)
  if pkg-config --exists hdf5-openmpi 2>/dev/null; then
    "$EMGMM" info | grep -q '^hdf5: parallel' || fail "hdf5-openmpi installed, but: $("$EMGMM" info | grep hdf5)"
  fi
  # from a given start (the default k-means init is seeded by k-means|| under MPI)
  "$EMGMM" fit x.npy -k 2 --seed 9 --max-iter 1 -q -o init.json || fail "init model"
  MFIT=(fit --init init.json --tol 0 --max-iter 12 -q)
  "$EMGMM" "${MFIT[@]}" x.npy -o mref.json || fail "single-process fit from init.json"
  for spec in x.h5:/X x.h5:/grp/Xz; do
    rm -f mp.json
    run 2 "$EMGMM" "${MFIT[@]}" "$spec" -o mp.json || fail "mpirun -np 2 fit $spec"
    "$PY" - mref.json mp.json <<'P' || fail "2 ranks on $spec: not one process's model to 1e-10"
import json, sys, numpy as np
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert a["n_iter"] == b["n_iter"]
for k in ("weights", "means", "covariances", "lower_bound"):
    x, y = np.array(a[k]), np.array(b[k])
    assert np.all(np.abs(x - y) <= 1e-10 * np.maximum(np.maximum(abs(x), abs(y)), 1e-3)), k
P
  done
  run 2 "$EMGMM" predict m.h5 x.h5:/grp/Xz --proba -o mp_p.h5 || fail "mpirun predict -o .h5"
  run 2 "$EMGMM" predict m.h5 x.h5:/X -o mp_l.h5:/lab || fail "mpirun predict labels -o .h5"
  "$PY" - <<'P' || fail "2 ranks' .h5 outputs differ from one process's"
import h5py, numpy as np
with h5py.File("mp_p.h5") as f, h5py.File("p.h5") as g:
    assert np.array_equal(f["data"][()], g["out/proba"][()])
with h5py.File("mp_l.h5") as f:
    assert np.array_equal(f["lab"][()], np.load("l.npy"))
P
  rm -f out.json
  run 2 "$EMGMM" fit -k 2 -q bad.h5:/nan -o out.json 2>err; rc=$?
  [ $rc = 3 ] || fail "mpirun NaN in rank 1's rows: exit $rc"
  [ "$(grep -c 'emgmm:' err)" = 1 ] && grep -q "NaN at row 901" err || fail "mpirun NaN message: $(cat err)"
  [ ! -e out.json ] || fail "mpirun NaN left out.json"
fi

checks_done hdf5_cli
