#!/usr/bin/env bash
# mclust_periter_tall.sh BUILD [DATA_DIR] [K=16] [ITERS=10] [REPEATS=3] — issue 19's per-iteration
# goal on the tall workload: every mclust structure's EM iteration within 1.5x of the full
# model's (VVV).  DATA_DIR holds bench/gen_data.py's X.npy (default: the tall workload,
# 10^6 x 16).  One k-means partition (emgmm's default init, one step) is the start of every
# model: `emgmm fit --init-resp` (an M-step from it), then ITERS EM iterations, tol 0, one
# thread.  Cost per iteration = (user CPU of the ITERS+1-iteration run - user CPU of the
# 1-iteration run) / ITERS: reading the data and the start cancel, and user CPU seconds are what
# a shared machine's load distorts least.  Models run interleaved, REPEATS rounds; medians.
set -eu
B=$(realpath "$1")
DATA=${2:-/work/bdata/n1000000_d16_k16_s1}
K=${3:-16}
IT=${4:-10}
R=${5:-3}
E="$B/tools/emgmm"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export OMP_NUM_THREADS=1
"$E" fit "$DATA/X.npy" -k "$K" --max-iter 1 --seed 1 -q -o "$T/start.json"
"$E" predict "$T/start.json" "$DATA/X.npy" -o "$T/lab.npy"
# --init-resp reads float arrays; the labels as a float64 column
/usr/bin/python3 -c 'import numpy as np, sys; np.save(sys.argv[1], np.load(sys.argv[1]).astype("f8"))' "$T/lab.npy"
MODELS="EII VII EEI VEI EVI VVI EEE VEE EVE VVE EEV VEV EVV VVV"
user() { # user CPU seconds of one fit with N iterations
  /usr/bin/time -f %U -o "$T/t" "$E" fit "$DATA/X.npy" --init-resp "$T/lab.npy" -k "$K" \
    --model "$1" --tol 0 --max-iter "$2" --threads 1 -q -o "$T/m.json" 2>"$T/err" ||
    { cat "$T/err" >&2; return 1; }
  cat "$T/t"
}
echo "# $(date -u +%FT%TZ) $(uname -n) load: $(uptime | sed 's/.*load average: //')"
echo "# data $DATA, K = $K, $IT iterations, $R rounds, 1 thread, $(grep -m1 'model name' /proc/cpuinfo)"
for r in $(seq "$R"); do
  for m in $MODELS; do
    a=$(user "$m" 1)
    b=$(user "$m" $((IT + 1)))
    echo "$m $r $a $b"
  done
done >"$T/raw"
echo "# load after: $(uptime | sed 's/.*load average: //')"
/usr/bin/python3 - "$T/raw" "$IT" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
it = int(sys.argv[2])
per = {}
for m, r, a, b in rows:
    per.setdefault(m, []).append((float(b) - float(a)) / it)
vvv = statistics.median(per["VVV"])
print("| model | s / iteration (user CPU, each round) | median | x VVV |")
print("|---|---|---|---|")
for m, v in per.items():
    med = statistics.median(v)
    print(f"| {m} | {', '.join(f'{x:.4f}' for x in v)} | {med:.4f} | {med / vvv:.2f} |")
PY
