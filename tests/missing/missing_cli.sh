#!/usr/bin/env bash
# missing_cli.sh — the tool with missing values: --missing for fit/predict/score/select, the CSV
# spellings of a missing value (NA, N/A, NaN, empty), .npy with NaN, and `emgmm impute`.
#   missing_cli.sh EMGMM [MPIRUN]   (with MPIRUN and an MPI build: also P = 1, 2, 3 ranks)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
EMGMM=$(realpath "$1")
# shellcheck source=../common/checks.sh
. "$HERE/../common/checks.sh"
# shellcheck source=../common/mpi.sh
. "$HERE/../common/mpi.sh"
scratch miss

cat >true.json <<'EOF'
{"format": "emgmm-model", "version": 1, "covariance_type": "full",
 "n_components": 2, "n_features": 3,
 "weights": [0.4, 0.6],
 "means": [[-2.0, 1.0, 5.0], [3.0, -2.0, 0.5]],
 "covariances": [[[1.0, 0.5, 0.2], [0.5, 1.0, 0.3], [0.2, 0.3, 1.5]],
                 [[0.8, -0.3, 0.0], [-0.3, 1.2, 0.4], [0.0, 0.4, 0.9]]]}
EOF
"$EMGMM" sample true.json -n 2000 --seed 8 -o full.csv || { echo "cannot make data"; exit 1; }

# 15% of the entries deleted at random, spelled four ways in CSV; the same data as .npy with NaN.
"$PY" - <<'EOF' || { echo "cannot make missing data"; exit 1; }
import numpy as np
x = np.loadtxt("full.csv", delimiter=",")
rng = np.random.default_rng(3)
mask = rng.random(x.shape) < 0.15
mask[np.all(mask, axis=1), 0] = False  # every row keeps a value
xm = np.where(mask, np.nan, x)
np.save("miss.npy", xm)
spell = ["NA", "", "NaN", "N/A"]
with open("miss.csv", "w") as f:
    f.write("a,b,c\n")
    for i, row in enumerate(xm):
        f.write(",".join(spell[(i + j) % 4] if np.isnan(v) else repr(float(v))
                         for j, v in enumerate(row)) + "\n")
np.save("mask.npy", mask)
EOF

# NaN is an error by default, with the hint; nothing written.
bad 3 "--missing nan reads it as missing" m.json "$EMGMM" fit miss.csv -k 2 -o m.json
bad 3 "NaN" m.json "$EMGMM" fit miss.npy -k 2 -o m.json
bad 2 "--missing: expected error, nan or drop-empty-rows" m.json "$EMGMM" fit miss.csv -k 2 -o m.json --missing maybe

# The fit: CSV and .npy hold the same numbers, so the same model, byte for byte.
ok "$EMGMM" fit miss.csv -k 2 -o m.json --missing nan --seed 1
ok "$EMGMM" fit miss.npy -k 2 -o m_npy.json --missing nan --seed 1
same m.json m_npy.json
check '"$PY" - <<EOF
import json; m = json.load(open("m.json"))
import numpy as np
mu = np.array(sorted(m["means"])); want = np.array(sorted([[-2.0, 1.0, 5.0], [3.0, -2.0, 0.5]]))
assert np.abs(mu - want).max() < 0.2, mu
EOF'

# predict / score need the policy too; rows with NaN get marginal densities.
bad 3 "NaN" "" "$EMGMM" predict m.json miss.npy
ok "$EMGMM" predict m.json miss.csv --missing nan -o lab.csv
check '[ "$(wc -l <lab.csv)" -eq 2000 ]'
ok "$EMGMM" score m.json miss.csv --missing nan
check '"$PY" -c "import math; v = float(open(\"out.txt\").read().split()[-1]); assert math.isfinite(v) and v < 0, v"'
ok "$EMGMM" select miss.npy -k 1:3 --missing nan -o sel.json
check '"$PY" -c "import json; assert json.load(open(\"sel.json\"))[\"n_components\"] == 2"'

# impute: no missing value left, observed values unchanged, better than column means.
ok "$EMGMM" impute m.json miss.csv -o imp.csv
check '"$PY" - <<EOF
import numpy as np
x = np.loadtxt("full.csv", delimiter=","); xm = np.load("miss.npy"); mask = np.load("mask.npy")
imp = np.loadtxt("imp.csv", delimiter=",", skiprows=1)  # the header a,b,c is kept
assert imp.shape == x.shape and np.isfinite(imp).all()
assert (imp[~mask] == xm[~mask]).all()
colmean = np.nanmean(xm, axis=0)
e_imp = np.sqrt(((imp - x)[mask] ** 2).mean())
e_mean = np.sqrt(((np.broadcast_to(colmean, x.shape) - x)[mask] ** 2).mean())
assert e_imp < 0.8 * e_mean, (e_imp, e_mean)
EOF'
ok "$EMGMM" impute m.json miss.npy -o imp.npy
check '"$PY" - <<EOF
import numpy as np
a = np.load("imp.npy"); b = np.loadtxt("imp.csv", delimiter=",", skiprows=1)
assert np.allclose(a, b, rtol=1e-15, atol=0), abs(a - b).max()
EOF'

# --multiple: M files, reproducible for a seed, different draws, observed values kept.
ok "$EMGMM" impute m.json miss.npy -o mi.csv --multiple 3 --seed 5
check 'test -f mi.1.csv -a -f mi.2.csv -a -f mi.3.csv'
ok "$EMGMM" impute m.json miss.npy -o again.csv --multiple 3 --seed 5 --threads 1
same mi.2.csv again.2.csv
check '"$PY" - <<EOF
import numpy as np
a = np.loadtxt("mi.1.csv", delimiter=","); b = np.loadtxt("mi.2.csv", delimiter=",")
mask = np.load("mask.npy")
assert (a[~mask] == b[~mask]).all() and (a[mask] != b[mask]).mean() > 0.99
EOF'
bad 2 "give -o FILE" "" "$EMGMM" impute m.json miss.npy --multiple 2
bad 2 "--multiple: expected an integer" "" "$EMGMM" impute m.json miss.npy -o z.csv --multiple 0

# a row with nothing observed: an error naming it, or dropped; Inf stays an error.
{ head -n 5 miss.csv; echo "NA,,NaN"; tail -n +6 miss.csv; } >empty.csv
bad 3 "row 4 has no observed value" m2.json "$EMGMM" fit empty.csv -k 2 -o m2.json --missing nan
ok "$EMGMM" fit empty.csv -k 2 -o m2.json --missing drop-empty-rows --seed 1
{ head -n 5 miss.csv; echo "1,inf,2"; } >inf.csv
bad 3 "non-finite value 'inf'" m3.json "$EMGMM" fit inf.csv -k 1 -o m3.json --missing nan

# distributed: P = 1, 2, 3 ranks give the single-process model (each rank reads its own rows)
MPIRUN=${2:-}
if [ -n "$MPIRUN" ] && "$EMGMM" info | grep -q '^mpi: on'; then
  ok "$EMGMM" fit miss.npy -k 2 --missing nan --init random_from_data --seed 4 -o p0.json -q
  for np in 1 2 3; do
    MPI_NO_LEAK_CHECK=1
    ok run $np "$EMGMM" fit miss.npy -k 2 --missing nan --init random_from_data --seed 4 \
      -o p$np.json -q
    check '"$PY" - <<EOF
import json, numpy as np
a, b = json.load(open("p0.json")), json.load(open("p$np.json"))
assert a["n_iter"] == b["n_iter"]
for f in ("weights", "means", "covariances"):
    x, y = np.array(a[f]), np.array(b[f])
    assert np.abs(x - y).max() <= 1e-10 * np.abs(x).max(), (f, np.abs(x - y).max())
EOF'
  done
fi

checks_done missing_cli
