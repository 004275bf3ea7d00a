#!/usr/bin/env bash
# degenerate_mpi.sh EMGMM MPIRUN — reseeding in a distributed fit: every rank scores its own
# rows, the candidates are merged over the ranks, and the fit on 2 and 3 ranks reseeds the
# same component at the same point and ends with the model of 1 rank (to rounding); a fit
# that runs out of points to reseed from fails on every rank with one message.
set -u
EMGMM=$(realpath "$1")
MPIRUN=$2
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../common/checks.sh
. "$HERE/../common/checks.sh"
# shellcheck source=../common/mpi.sh
. "$HERE/../common/mpi.sh"
scratch degen_mpi

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
"$EMGMM" sample two.json -n 901 --seed 2385 -o x.npy || { echo "cannot make data"; exit 1; }
for np in 1 2 3; do
  run $np "$EMGMM" fit x.npy --init far.json --threads 1 -o m$np.json --log l$np.log 2>e$np.txt
  rc=$?
  check '[ $rc -eq 0 ]' "np $np: exit $rc: $(cat e$np.txt)"
done
check '"$PY" - <<EOF
import json, sys
ms = [json.load(open("m%d.json" % p)) for p in (1, 2, 3)]
ev = [[e for e in map(json.loads, open("l%d.log" % p)) if e["event"] == "reseed"] for p in (1, 2, 3)]
ok = all(m["reseeds"] == 1 and m["n_iter"] == ms[0]["n_iter"] for m in ms)
ok = ok and all(e[0]["iter"] == 1 and e[0]["component"] == 2 and abs(e[0]["log_density"] - ev[0][0]["log_density"]) <= 1e-12 * abs(ev[0][0]["log_density"]) for e in ev)
for m in ms[1:]:
    ok = ok and abs(m["lower_bound"] - ms[0]["lower_bound"]) <= 1e-12 * abs(ms[0]["lower_bound"])
    ok = ok and max(abs(a - b) for r, s in zip(m["means"], ms[0]["means"]) for a, b in zip(r, s)) <= 1e-10
sys.exit(not ok)
EOF' "distributed reseed differs from one rank: $(grep -h reseed l1.log l2.log l3.log)"

# fewer distinct points than components: exit 4 on every rank, one message
"$PY" - <<'EOF'
import struct
rows = [(0.0, -0.5), (2.385, 1.0), (4.77, -0.5)] * 20
hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (%d, 2), }" % len(rows)
hdr += " " * (63 - (10 + len(hdr)) % 64) + "\n"
with open("few.npy", "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
    for r in rows:
        f.write(struct.pack("<2d", *r))
EOF
run 2 "$EMGMM" fit few.npy -k 5 --init random_from_data -o few.json >out.txt 2>err.txt
rc=$?
check '[ $rc -eq 4 ] && [ "$(grep -c "fewer distinct points" err.txt)" -eq 1 ] && [ ! -e few.json ]' "np 2, fewer distinct points: exit $rc: $(cat err.txt)"

checks_done degenerate_mpi
