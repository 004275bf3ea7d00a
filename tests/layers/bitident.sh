#!/usr/bin/env bash
# bitident.sh — the same seeds give byte-identical model files and predict /
# score outputs from two builds of emgmm (issue 20: a refactor changes no bit).
#   tests/layers/bitident.sh BASE_EMGMM NEW_EMGMM [WORKDIR]
# Runs a matrix of fits (every covariance type and mclust structure, float64 and
# float32, missing data, weights, SQUAREM, em-EM, every init, reseeding, the
# variance floor, n_init, MPI with 2 ranks when mpirun is there) with each
# binary, then byte-compares every output.  Prints one line per differing file
# and ends with "N identical, M differ"; exits 1 if any differ.
set -uo pipefail
base=$(realpath "$1"); new=$(realpath "$2")
work=${3:-$(mktemp -d)}
mkdir -p "$work/base" "$work/new" "$work/data"
py=/usr/bin/python3
$py - "$work/data" <<'PY'
import numpy as np, sys, os
out = sys.argv[1]
rng = np.random.default_rng(20)
def mix(n, d, K, seed):
    r = np.random.default_rng(seed)
    mu = r.normal(0, 4, (K, d)); lab = r.integers(0, K, n)
    A = r.normal(0, 1, (K, d, d)) * 0.5 + np.eye(d)
    return np.einsum('nij,nj->ni', A[lab], r.normal(0, 1, (n, d))) + mu[lab]
def save(name, x):
    np.savetxt(os.path.join(out, name), x, delimiter=',', fmt='%.17g')
save('d3.csv', mix(3000, 3, 4, 1))
save('d9.csv', mix(4000, 9, 5, 2))
save('d24.csv', mix(3000, 24, 6, 3))
x = mix(3000, 6, 4, 4); m = rng.random(x.shape) < 0.15; x[m] = np.nan
x[5, :] = np.nan  # a row with nothing observed
save('miss.csv', x)
x = mix(3000, 6, 4, 4); m = rng.random(x.shape) < 0.15; x[m] = np.nan
save('missnan.csv', x)
save('w.csv', rng.random(4000) * 3)
# two clusters and an initial model whose third component is far away: it
# empties at once and is reseeded (as tests/degenerate/degenerate_cli.sh)
r = np.random.default_rng(2385)
x = np.vstack([r.multivariate_normal([-2.0, 0.5], [[1.3, 0.2], [0.2, 0.9]], 480),
               r.multivariate_normal([6.0, 0.0], [[0.8, 0.0], [0.0, 1.1]], 320)])
save('two.csv', x)
x[r.random(x.shape) < 0.1] = np.nan
save('twomiss.csv', x)
open(os.path.join(out, 'far.json'), 'w').write(
    '{"format": "emgmm-model", "version": 1, "covariance_type": "full", "n_components": 3, '
    '"n_features": 2, "weights": [0.45, 0.45, 0.1], "means": [[-2.0, 0.5], [6.0, 0.0], '
    '[10000.0, 10000.0]], "covariances": [[[1, 0], [0, 1]], [[1, 0], [0, 1]], [[1, 0], [0, 1]]]}')
PY
d=$work/data
# name | data | options
runs=(
 "full64|d9.csv|-k 5 --covariance full"
 "tied64|d9.csv|-k 5 --covariance tied"
 "diag64|d9.csv|-k 5 --covariance diag"
 "sph64|d9.csv|-k 5 --covariance spherical"
 "full32|d9.csv|-k 5 --covariance full --dtype float32"
 "tied32|d9.csv|-k 5 --covariance tied --dtype float32"
 "diag32|d9.csv|-k 5 --covariance diag --dtype float32"
 "sph32|d9.csv|-k 5 --covariance spherical --dtype float32"
 "fullsmall64|d3.csv|-k 4 --covariance full"
 "fullsmall32|d3.csv|-k 4 --covariance full --dtype float32"
 "full24|d24.csv|-k 6 --covariance full --tol 0 --max-iter 15"
 "full24f32|d24.csv|-k 6 --covariance full --tol 0 --max-iter 15 --dtype float32"
 "EII|d9.csv|-k 4 --model EII"  "VII|d9.csv|-k 4 --model VII"  "EEI|d9.csv|-k 4 --model EEI"
 "VEI|d9.csv|-k 4 --model VEI"  "EVI|d9.csv|-k 4 --model EVI"  "VVI|d9.csv|-k 4 --model VVI"
 "EEE|d9.csv|-k 4 --model EEE"  "VEE|d9.csv|-k 4 --model VEE"  "EVE|d9.csv|-k 4 --model EVE"
 "VVE|d9.csv|-k 4 --model VVE"  "EEV|d9.csv|-k 4 --model EEV"  "VEV|d9.csv|-k 4 --model VEV"
 "EVV|d9.csv|-k 4 --model EVV"  "VVV|d9.csv|-k 4 --model VVV"
 "missfull|miss.csv|-k 4 --covariance full --missing drop-empty-rows"
 "misstied|miss.csv|-k 4 --covariance tied --missing drop-empty-rows"
 "missdiag|miss.csv|-k 4 --covariance diag --missing drop-empty-rows"
 "misssph|miss.csv|-k 4 --covariance spherical --missing drop-empty-rows"
 "missnan32|missnan.csv|-k 4 --covariance full --missing nan --dtype float32"
 "misstied32|missnan.csv|-k 4 --covariance tied --missing nan --dtype float32"
 "weights|d9.csv|-k 5 --weights $d/w.csv"
 "weightsdiag|d9.csv|-k 5 --covariance diag --weights $d/w.csv"
 "squarem|d9.csv|-k 5 --accel squarem --tol 1e-6"
 "squarem32|d9.csv|-k 5 --accel squarem --tol 1e-6 --dtype float32"
 "emem|d9.csv|-k 5 --init emem"
 "ememtied|d9.csv|-k 5 --init emem --covariance tied --search-starts 5"
 "kmpp|d9.csv|-k 5 --init k-means++"
 "random|d9.csv|-k 5 --init random"
 "rfd|d9.csv|-k 5 --init random_from_data"
 "ninit|d9.csv|-k 5 --n-init 3 --seed 7"
 "reseed|two.csv|--init $d/far.json"
 "reseed32|two.csv|--init $d/far.json --dtype float32"
 "reseedmiss|twomiss.csv|--init $d/far.json --missing nan"
 "vfloor|d9.csv|-k 5 --var-floor 0.01 --reg-covar 0"
 "missreseed|miss.csv|-k 6 --missing drop-empty-rows --init random_from_data --seed 2"
)
run_all() { # binary dir
  local bin=$1 dir=$2 r name data opts
  for r in "${runs[@]}"; do
    IFS='|' read -r name data opts <<<"$r"
    # shellcheck disable=SC2086
    "$bin" fit "$d/$data" $opts --threads 2 -q --log "$dir/$name.log" -o "$dir/$name.json" --labels "$dir/$name.labels.csv" \
      >"$dir/$name.out" 2>"$dir/$name.err"
    echo "rc=$?" >>"$dir/$name.out"
    local miss=""; case $opts in *--missing*) miss="--missing drop-empty-rows";; esac
    local dt=""; case $opts in *float32*) dt="--dtype float32";; esac
    if [ -s "$dir/$name.json" ]; then
      # shellcheck disable=SC2086
      "$bin" predict "$dir/$name.json" "$d/$data" --proba $miss $dt --threads 2 >"$dir/$name.proba" 2>&1
      # shellcheck disable=SC2086
      "$bin" score "$dir/$name.json" "$d/$data" --per-sample $miss $dt --threads 2 >"$dir/$name.score" 2>&1
    fi
  done
  if command -v mpirun >/dev/null; then
    for r in "mpifull|d9.csv|-k 5" "mpitied|d9.csv|-k 5 --covariance tied" \
             "mpidiag32|d9.csv|-k 5 --covariance diag --dtype float32" \
             "mpimiss|miss.csv|-k 4 --missing drop-empty-rows" "mpirandom|d9.csv|-k 5 --init random" \
             "mpiVVE|d9.csv|-k 4 --model VVE" "mpisquarem|d9.csv|-k 5 --accel squarem"; do
      IFS='|' read -r name data opts <<<"$r"
      # shellcheck disable=SC2086
      mpirun --allow-run-as-root --oversubscribe -np 2 "$bin" fit "$d/$data" $opts --threads 1 -q -o "$dir/$name.json" \
        >"$dir/$name.out" 2>"$dir/$name.err"
      echo "rc=$?" >>"$dir/$name.out"
    done
  fi
}
run_all "$base" "$work/base"
run_all "$new" "$work/new"
same=0 diff=0
for f in "$work"/base/*; do
  b=$(basename "$f")
  case $b in *.err) continue;; esac # stderr may name the binary's path
  [ "${b%.log}" != "$b" ] && sed -i 's/"seconds": *[0-9.e+-]*//g; s/"time[a-z_]*": *[0-9.e+-]*//g; s/"elapsed": *[0-9.e+-]*//g' "$f" "$work/new/$b"
  if cmp -s "$f" "$work/new/$b"; then same=$((same + 1)); else diff=$((diff + 1)); echo "DIFFER: $b"; fi
done
fits=$(ls "$work"/base/*.json 2>/dev/null | wc -l)
reseeds=$(grep -l '"event": *"reseed"' "$work"/base/*.log 2>/dev/null | wc -l)
mpi=$(grep -l '^rc=0' "$work"/base/mpi*.out 2>/dev/null | wc -l)
echo "$fits model files ($reseeds fits with reseeds, $mpi MPI fits); $same identical, $diff differ (outputs in $work)"
[ "$diff" -eq 0 ]
