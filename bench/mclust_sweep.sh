#!/usr/bin/env bash
# mclust_sweep.sh BUILD DIR [n=100000] [iters=20] [models=all] [--full-mclust] — the issue 19
# sweep in one command: the fourteen structures x K = 1..9 on n x 10 data, emgmm against R's
# mclust from the same k-means partitions, printed as one Markdown table.
#   1. data and partitions (bench/mclust_data.R) into DIR unless DIR/X.f64 exists;
#   2. emgmm (bench/mclust_sweep): every fit an M-step from the partition plus ITERS - 1 E/M
#      iterations, with 1 thread and with 2 threads;
#   3. R mclust (bench/mclust_bench.R, one thread): me(modelName, X, z) from the same
#      partitions for exactly ITERS outer iterations, the E/M loop Mclust(X, G = 1:9) runs
#      after its initialisation;
#   4. with --full-mclust also Mclust(X, G = 1:9) itself, timed whole and its hierarchical
#      agglomeration (hc on mclust's default subset of 2000 rows) alone, to show what the
#      like-for-like comparison above leaves out (Mclust iterates to its own tolerance, so
#      its E/M work differs from ITERS iterations).
# Then the table (bench/mclust_compare.py, CPU seconds: robust to load at one thread) and the
# ratios at equal threads (CPU and wall) and at 2 threads (wall: CPU time adds the threads).
# Timing on a shared machine is noisy: the load is printed before and after each engine.
set -eu
B=$(realpath "$1")
DIR=$2
N=${3:-100000}
IT=${4:-20}
MODELS=${5:-all}
FULL=${6:-}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$DIR"
load() { uptime | sed 's/.*load/load/'; }
if [ ! -e "$DIR/X.f64" ]; then
  Rscript "$HERE/mclust_data.R" "$DIR" "$N" 10 >/dev/null 2>&1
fi
echo "# emgmm 1 thread ($(load))"
"$B/bench/mclust_sweep" "$DIR" "$IT" 1 "$MODELS" >"$DIR/emgmm_1t.txt"
echo "# emgmm 2 threads ($(load))"
OMP_NUM_THREADS=2 "$B/bench/mclust_sweep" "$DIR" "$IT" 2 "$MODELS" >"$DIR/emgmm_2t.txt"
echo "# R mclust me(), 1 thread ($(load))"
RM=$([ "$MODELS" = all ] && echo "" || echo "$MODELS")
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 Rscript "$HERE/mclust_bench.R" "$DIR" "$IT" $RM >"$DIR/mclust_r.txt"
echo "# done ($(load))"
if [ "$FULL" = --full-mclust ]; then
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 Rscript -e '
    suppressPackageStartupMessages(library(mclust))
    a <- commandArgs(trailingOnly = TRUE)
    sz <- file.info(file.path(a[1], "X.f64"))$size / 8
    X <- matrix(readBin(file.path(a[1], "X.f64"), "double", n = sz), ncol = 10, byrow = TRUE)
    set.seed(0); sub <- sample.int(nrow(X), min(nrow(X), mclust.options("subset")))
    th <- system.time(hc(X[sub, ], modelName = "VVV"))[["elapsed"]]
    set.seed(0); tf <- system.time(f <- Mclust(X, G = 1:9, verbose = FALSE))[["elapsed"]]
    cat(sprintf("Mclust(X, G = 1:9): %.1f s whole, of which hc on %d rows %.1f s; chose %s K=%d\n",
                tf, length(sub), th, f$modelName, f$G))' "$DIR" >"$DIR/mclust_full.txt"
fi
echo
echo "## equal threads: emgmm 1 thread, mclust 1 thread, CPU seconds"
/usr/bin/python3 "$HERE/mclust_compare.py" "$DIR/emgmm_1t.txt" "$DIR/mclust_r.txt" --cpu
echo
echo "## the same in wall seconds"
/usr/bin/python3 "$HERE/mclust_compare.py" "$DIR/emgmm_1t.txt" "$DIR/mclust_r.txt" | tail -1
echo
echo "## emgmm 2 threads, mclust 1 thread (R's mclust has no threads), wall seconds"
/usr/bin/python3 "$HERE/mclust_compare.py" "$DIR/emgmm_2t.txt" "$DIR/mclust_r.txt" | tail -1
[ -e "$DIR/mclust_full.txt" ] && { echo; cat "$DIR/mclust_full.txt"; }
exit 0
