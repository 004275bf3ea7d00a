#!/usr/bin/env bash
# search_cli.sh EMGMM [MPIRUN] — `--init emem` from the command line: the name and its alias
# give one model, --progress and --log start at iteration 1 (the search is the
# initialisation), select takes it, bad search options are one-line usage errors leaving no
# output, and under mpirun (2 ranks) the search runs and every rank agrees; smem is fit's
# default and kmeans select's.
set -u
EMGMM=$(realpath "$1")
MPIRUN=${2:-}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../common/checks.sh
. "$HERE/../common/checks.sh"
# shellcheck source=../common/mpi.sh
. "$HERE/../common/mpi.sh"
scratch search

cat >six.json <<'JSON'
{"format": "emgmm-model", "version": 1, "covariance_type": "diag", "n_components": 6, "n_features": 2,
 "weights": [0.3, 0.05, 0.25, 0.1, 0.2, 0.1],
 "means": [[0, 0], [6, 0], [12, 0], [0, 6], [6, 6], [12, 6.5]],
 "covariances": [[1.1, 0.7], [0.5, 0.5], [1.3, 0.9], [0.6, 0.8], [0.9, 1.2], [0.4, 0.4]]}
JSON
"$EMGMM" sample six.json -n 1500 --seed 2385 -o x.npy || { echo "cannot make data"; exit 1; }

check '"$EMGMM" fit x.npy -k 6 --init emem --threads 1 -q -o a.json' "fit --init emem failed"
check '"$EMGMM" fit x.npy -k 6 --init em-em --threads 1 -q -o b.json' "fit --init em-em failed"
check 'cmp -s a.json b.json' "emem and em-em gave different models"
check '"$EMGMM" fit x.npy -k 6 --init emem --threads 1 --progress --log log.jsonl -o c.json 2>err.txt' \
      "fit --init emem --progress failed"
check 'cmp -s a.json c.json' "the step-wise path (--progress) gave another model than emgmm_fit"
check 'grep -q "iter    1  lower bound" err.txt' "no progress line for iteration 1"
check 'grep -q "^emgmm: searching for a start by emem" err.txt' "--progress does not say the search starts"
check 'grep -q "\"event\": \"init\", \"method\": \"emem\"" log.jsonl' "the log's init event does not name emem"
check '"$EMGMM" fit x.npy -k 6 --init emem --n-init 2 --search-starts 3 --search-iter 2 --threads 1 -q -o d.json' \
      "fit --init emem --n-init 2 failed"
check '"$EMGMM" select x.npy -k 4:7 --covariance diag,full --init emem --search-starts 4 --threads 1 -q -o s.json' \
      "select --init emem failed"
check '[ -s s.json ]' "select wrote no model"

# smem is fit's default (issue 18): no --init is --init smem, byte for byte, and the log says
# so; --init kmeans is another start; select's default stays kmeans
check '"$EMGMM" fit x.npy -k 6 --threads 1 --log dlog.jsonl -q -o dflt.json' "fit without --init failed"
check '"$EMGMM" fit x.npy -k 6 --init smem --threads 1 -q -o smem.json' "fit --init smem failed"
check 'cmp -s dflt.json smem.json' "fit's default is not --init smem"
check 'grep -q "\"event\": \"init\", \"method\": \"smem\"" dlog.jsonl' "the log's init event does not name smem"
check '"$EMGMM" fit x.npy -k 6 --init kmeans --threads 1 -q -o km.json' "fit --init kmeans failed"
check '! cmp -s dflt.json km.json' "fit --init kmeans gave the default's model"
check '"$EMGMM" fit --help | grep -q "(default smem)"' "fit --help does not give smem as the default"
check '"$EMGMM" select x.npy -k 6 --covariance full --threads 1 -q -o sd.json' "select without --init failed"
check '"$EMGMM" select x.npy -k 6 --covariance full --init kmeans --threads 1 -q -o sk.json' "select --init kmeans failed"
check 'cmp -s sd.json sk.json' "select's default is not kmeans"

for args in "--search-starts 0" "--search-iter -1" "--search-starts x" "--init emm"; do
  rm -f e.json
  "$EMGMM" fit x.npy -k 6 $args -o e.json >out.txt 2>err.txt
  rc=$?
  check '[ $rc -eq 2 ]' "fit $args exited $rc, expected 2"
  check '[ "$(wc -l <err.txt)" -eq 1 ]' "fit $args: stderr is not one line: $(cat err.txt)"
  check '[ ! -e e.json ]' "fit $args left e.json"
done
check 'grep -q -- "--init" err.txt && grep -q emem err.txt' "the --init error does not list emem: $(cat err.txt)"

if [ -n "$MPIRUN" ]; then
  MPI_NO_LEAK_CHECK=1
  check 'run 2 "$EMGMM" fit x.npy -k 6 --init emem --search-starts 5 --threads 1 -q -o m2.json 2>merr.txt' \
        "mpirun -np 2 fit --init emem failed: $(cat merr.txt 2>/dev/null)"
  check '[ -s m2.json ] && grep -q "\"n_components\": 6" m2.json' "the distributed search wrote no model"
  check 'run 2 "$EMGMM" fit x.npy -k 6 --threads 1 -q -o m2s.json 2>merr.txt' \
        "mpirun -np 2 fit (default smem) failed: $(cat merr.txt 2>/dev/null)"
  check '[ -s m2s.json ] && grep -q "\"n_components\": 6" m2s.json' "the distributed smem wrote no model"
fi

checks_done search_cli
