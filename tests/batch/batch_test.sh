#!/usr/bin/env bash
# batch_test.sh — `emgmm fit` in batch jobs: checkpoint/resume bit for bit,
# SIGTERM/SIGINT (save and exit 6; a second signal exits at once, leaving no
# partial file) and the up-front memory check.  batch_test.sh EMGMM GROUP
#   (GROUP: resume, signals, memory, errors)
set -u
EMGMM=$(realpath "$1")
GROUP=$2
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../common/checks.sh
. "$HERE/../common/checks.sh"
# shellcheck source=../common/models.sh
. "$HERE/../common/models.sh"
scratch batch
# an inexact resume warns: ok also asserts no "warning" on stderr
CHECK_NO_WARNING=1

# Data from hand-written models: small (resume) and 2e5 x 16 (signals, ~25 MB).
cat >gen3.json <<'EOF'
{"format": "emgmm-model", "version": 1, "covariance_type": "full",
 "n_components": 3, "n_features": 4, "weights": [0.2, 0.3, 0.5],
 "means": [[0, 1, 2, 3], [3, 4.125, 5, 6], [6, 7, 8.385, 9]],
 "covariances": [[[1.5, 0.3, 0.3, 0.3], [0.3, 1.5, 0.3, 0.3], [0.3, 0.3, 1.5, 0.3], [0.3, 0.3, 0.3, 1.5]],
                 [[1.2, 0.1, 0, 0], [0.1, 1.2, 0, 0], [0, 0, 1.2, 0.1], [0, 0, 0.1, 1.2]],
                 [[2.25, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0.5, 0], [0, 0, 0, 1.75]]]}
EOF
gen16() {
  "$PY" - <<'EOF'
import json
d, K = 16, 4
json.dump({"format": "emgmm-model", "version": 1, "covariance_type": "diag",
           "n_components": K, "n_features": d, "weights": [0.25] * K,
           "means": [[(i * 1.7 + j * 0.3) % 5 for j in range(d)] for i in range(K)],
           "covariances": [[1.0 + 0.1 * j for j in range(d)] for _ in range(K)]},
          open("gen16.json", "w"))
EOF
  "$EMGMM" sample gen16.json -n 200000 --seed 3 -o big.npy || { echo "cannot make data"; exit 1; }
}
"$EMGMM" sample gen3.json -n 3000 --seed 2385 -o x.npy || { echo "cannot make data"; exit 1; }
"$EMGMM" sample gen3.json -n 3000 --seed 2386 -o other.npy || exit 1
# 9001 rows: enough for Anderson's subsample warm-up (8000), made at its second iteration
"$EMGMM" sample gen3.json -n 9001 --seed 2387 -o x9.npy || exit 1

# A fit stopped after STOP iterations by --max-iter and resumed to 14 ends with
# exactly the model of an uninterrupted 14-iteration run (args: STOP, fit options).
resume_case() {
  local stop=$1
  shift
  local data=${RESUME_DATA:-x.npy}
  rm -f full.json part.json res.json ck.json
  ok "$EMGMM" fit "$data" "$@" --tol 0 --max-iter 14 -q -o full.json
  ok "$EMGMM" fit "$data" "$@" --tol 0 --max-iter "$stop" -q --checkpoint ck.json -o part.json
  local got
  got=$(ck_field ck.json '["checkpoint"]["n_iter"]')
  check '[ "$got" = "$stop" ]' "checkpoint n_iter is not $stop"
  ok "$EMGMM" fit "$data" --resume ck.json --max-iter 14 -q -o res.json
  same full.json res.json "resume after $stop ($*)"
}

group_resume() {
  for cov in full diag tied spherical; do
    resume_case 5 -k 3 --covariance "$cov"
  done
  resume_case 1 -k 3 --dtype float32
  resume_case 9 -k 4 --covariance diag --dtype float32 --seed 7
  resume_case 3 -k 3 --init random_from_data --seed 11
  resume_case 4 -k 3 --init emem --search-starts 5 --search-iter 3 --seed 2 # the search is the init
  # accelerated fits: the checkpoint carries the SQUAREM cycle, so a resume in any of its
  # phases (after 1, 2 or 3 passes of a cycle, after a rejection) continues bit for bit
  for stop in 2 3 4 5 7 10; do
    resume_case $stop -k 3 --accel squarem
  done
  resume_case 6 -k 3 --covariance diag --dtype float32 --accel squarem
  resume_case 5 -k 3 --covariance tied --accel squarem
  # Anderson: the checkpoint carries the last accepted point and the difference memory
  for stop in 1 2 3 6 11; do
    resume_case $stop -k 3 --accel anderson
  done
  resume_case 6 -k 3 --covariance diag --dtype float32 --accel anderson
  resume_case 5 -k 3 --covariance spherical --accel anderson
  # with the subsample warm-up (9001 rows): stopped before it, just after it, later
  for stop in 1 2 3; do
    RESUME_DATA=x9.npy resume_case $stop -k 3 --init kmeans --accel anderson
  done
  RESUME_DATA=x9.npy resume_case 1 -k 3 --init kmeans --covariance diag --dtype float32 --accel anderson
  # Resuming a checkpoint taken every 4 iterations, interrupted at 11: the
  # file holds iteration 11 (the end of a run is always saved).
  ok "$EMGMM" fit x.npy -k 3 --tol 0 --max-iter 11 -q --checkpoint ck4.json --checkpoint-every 4
  local got
  got=$(ck_field ck4.json '["checkpoint"]["n_iter"], len(__import__("json").load(open("ck4.json"))["checkpoint"]["lower_bounds"])')
  check '[ "$got" = "11 11" ]' "checkpoint-every 4: $got"
  ok "$EMGMM" fit x.npy -k 3 --tol 0 --max-iter 14 -q -o full.json
  ok "$EMGMM" fit x.npy --resume ck4.json --max-iter 14 -q -o res4.json
  same full.json res4.json "resume from --checkpoint-every 4"
  # emgmm_model_set_parameters divides the weights by their sum, so weights
  # that sum to 1 only within rounding cannot always be restored bit for bit
  # (this fit's iteration 10 on this machine): the resume is then never
  # silently different — it warns.
  ok "$EMGMM" fit x.npy -k 3 --tol 0 --max-iter 10 -q --checkpoint ck10.json
  "$EMGMM" fit x.npy --resume ck10.json --max-iter 14 -q -o res10.json 2>err10.txt
  check 'cmp -s full.json res10.json || grep -q "warning: the checkpoint.s weights cannot be restored bit for bit" err10.txt' \
    "resume from iteration 10 differs without a warning"
  # A converged fit: the default tol, resumed from its middle.
  ok "$EMGMM" fit x.npy -k 3 -q -o conv.json
  local n
  n=$(ck_field conv.json '["n_iter"]')
  ok "$EMGMM" fit x.npy -k 3 -q --max-iter $((n / 2)) --checkpoint ckc.json -o /dev/null
  ok "$EMGMM" fit x.npy --resume ckc.json --max-iter 100 -q -o resc.json
  same conv.json resc.json "converged fit resumed"
  # Resuming a finished checkpoint writes the same model again, and the
  # checkpoint is itself a model file `score` reads.
  ok "$EMGMM" fit x.npy --resume ckc.json --max-iter 100 -q -o resc2.json
  same conv.json resc2.json "finished checkpoint resumed"
  ok "$EMGMM" score ckc.json x.npy
  no_temps resume
}

# Starts a long fit (2e5 x 16, tol 0; kmeans, whose initialisation is short) in the
# background: sets $PID.
long_fit() {
  "$EMGMM" fit big.npy -k 4 --init kmeans --tol 0 --max-iter 1000 "$@" >fit.out 2>fit.err &
  PID=$!
}

# Waits until FILE exists (the first checkpoint: the fit is past its
# initialisation) or 20 s pass.
wait_for() {
  for _ in $(seq 200); do [ -e "$1" ] && return 0; sleep 0.1; done
  return 1
}

group_signals() {
  gen16
  # SIGTERM: finish the iteration, save checkpoint and model, exit 6.
  long_fit -o bm.json --checkpoint bck.json
  wait_for bck.json || fail "no checkpoint appeared"
  sleep 0.5
  kill -TERM $PID
  wait $PID
  local rc=$?
  check '[ $rc -eq 6 ]' "SIGTERM: exit $rc, expected 6: $(cat fit.err)"
  check 'grep -q "^emgmm: fit: interrupted by SIGTERM at iteration [0-9]*; model so far in bm.json, checkpoint in bck.json\$" fit.err' \
    "SIGTERM message: $(cat fit.err)"
  ok "$EMGMM" score bm.json big.npy
  no_temps "SIGTERM"
  local it
  it=$(ck_field bck.json '["checkpoint"]["n_iter"]')
  local got
  got=$(ck_field bm.json '["n_iter"]')
  check '[ "$got" = "$it" ]' "model n_iter $got != checkpoint $it"
  # Resumed to M iterations = an uninterrupted M-iteration run, bit for bit.
  local M=$((it + 12))
  ok "$EMGMM" fit big.npy --resume bck.json --max-iter $M -q -o bres.json
  ok "$EMGMM" fit big.npy -k 4 --init kmeans --tol 0 --max-iter $M -q -o bfull.json
  same bfull.json bres.json "resume after SIGTERM at $it"

  # SIGINT without --checkpoint: the model so far, exit 6.
  rm -f bm.json
  long_fit -o bm.json --progress
  for _ in $(seq 200); do grep -q 'iter    2' fit.err && break; sleep 0.1; done
  kill -INT $PID
  wait $PID
  rc=$?
  check '[ $rc -eq 6 ]' "SIGINT: exit $rc, expected 6: $(tail -3 fit.err)"
  check 'grep -q "interrupted by SIGINT at iteration" fit.err' "SIGINT message: $(tail -3 fit.err)"
  ok "$EMGMM" score bm.json big.npy

  # Two signals: exit at once (128 + SIGTERM), no temporary or partial file;
  # whatever checkpoint exists is complete.  Repeated at different moments.
  for delay in 0 0.2 0.45; do
    rm -f dm.json dck.json
    long_fit -o dm.json --checkpoint dck.json
    wait_for dck.json
    sleep $delay
    kill -TERM $PID
    kill -TERM $PID
    wait $PID
    rc=$?
    check '[ $rc -eq 143 ] || [ $rc -eq 6 ]' "double SIGTERM: exit $rc: $(cat fit.err)"
    no_temps "double SIGTERM after $delay s"
    check '"$EMGMM" score dck.json big.npy >/dev/null 2>&1' "checkpoint after double SIGTERM is not a valid model"
    if [ -e dm.json ]; then
      check '"$EMGMM" score dm.json big.npy >/dev/null 2>&1' "partial model after double SIGTERM"
    fi
  done
  # n_init > 1 cannot stop between iterations: the first signal exits at once.
  long_fit -o nm.json --n-init 50
  sleep 0.5
  kill -TERM $PID
  wait $PID
  rc=$?
  check '[ $rc -eq 143 ]' "SIGTERM with --n-init 50: exit $rc, expected 143"
  check '[ ! -e nm.json ]' "SIGTERM with --n-init 50 left nm.json"
  no_temps "n-init SIGTERM"
}

# WIDE_N rows of WIDE_D gaussian columns as raw float64 (wide.f64).
wide() {
  "$PY" -c "
import array, random, sys
random.seed(5)
n, d = int(sys.argv[1]), int(sys.argv[2])
array.array('d', (random.gauss(0, 1) for _ in range(n * d))).tofile(open('wide.f64', 'wb'))" "$1" "$2"
}

group_memory() {
  # K = 1000 full covariances of d = 4000 are 1.3e11 bytes each copy (~0.9 TB
  # in all): refused up front, before anything is written or allocated.  The
  # values do not matter: 1000 rows of zeros.
  truncate -s $((1000 * 4000 * 8)) zeros.f64
  bad 5 "fit: not enough memory: K=1000, d=4000, full covariances" m.json \
    "$EMGMM" fit zeros.f64 --dims 4000 -k 1000 -o m.json --checkpoint ck.json
  check '[ ! -e ck.json ]' "memory refusal left ck.json"
  check 'grep -q "need about [0-9.]* TB beyond the data, but .* is available" err.txt' \
    "memory message: $(cat err.txt)"
  # Under ulimit -v the address space left is the limit: K = 40 full
  # covariances of d = 1000 (~2.6 GB) are refused, K = 2 are fitted.
  wide 40 1000
  # A sanitizer's shadow memory needs terabytes of address space: there the
  # ulimit part cannot run (the estimate itself is still checked above).
  if [ -n "${ASAN_OPTIONS:-}" ] || ldd "$EMGMM" 2>/dev/null | grep -q libasan; then
    echo "skipping the ulimit -v part under AddressSanitizer"
  else
  (
    ulimit -v 1500000
    bad 5 "RLIMIT_AS (ulimit -v)" m.json "$EMGMM" fit wide.f64 --dims 1000 -k 40 -o m.json --threads 1
    ok "$EMGMM" fit wide.f64 --dims 1000 -k 2 -o m2.json --threads 1 --max-iter 1 --init random_from_data -q
    echo "$FAILS $CHECKS" >sub.txt
  )
  read -r FAILS CHECKS <sub.txt
  check '[ -s m2.json ]' "the K = 2 fit under ulimit -v wrote no model"
  fi
  # Fewer rows than components: the fit's own, clearer error comes first.
  bad 3 "40 samples (with weight > 0) for 100 components" m.json \
    "$EMGMM" fit wide.f64 --dims 1000 -k 100 -o m.json
}

group_errors() {
  ok "$EMGMM" fit x.npy -k 3 --tol 0 --max-iter 4 -q --checkpoint ck.json -o m.json
  bad 3 "is not the data the checkpoint ck.json was written for" r.json \
    "$EMGMM" fit other.npy --resume ck.json -o r.json
  bad 2 "--tol differs from the checkpoint ck.json" r.json \
    "$EMGMM" fit x.npy --resume ck.json --tol 0.5 -o r.json
  bad 2 "-k differs from the checkpoint ck.json" r.json "$EMGMM" fit x.npy --resume ck.json -k 4 -o r.json
  bad 2 "--threads 1 differs from the checkpoint ck.json" r.json \
    "$EMGMM" fit x.npy --resume ck.json --threads 1 -o r.json
  bad 2 "--max-iter 3 is below the 4 iterations" r.json "$EMGMM" fit x.npy --resume ck.json --max-iter 3 -o r.json
  bad 2 "--checkpoint and --resume need --n-init 1" r.json \
    "$EMGMM" fit x.npy -k 3 --n-init 2 --checkpoint c2.json -o r.json
  bad 2 "--init cannot be given with --resume" r.json \
    "$EMGMM" fit x.npy --resume ck.json --init kmeans -o r.json
  bad 2 "--checkpoint-every needs --checkpoint FILE" r.json \
    "$EMGMM" fit x.npy -k 3 --checkpoint-every 3 -o r.json
  bad 3 "bad checkpoint file: no 'checkpoint' object" r.json "$EMGMM" fit x.npy --resume m.json -o r.json
  bad 3 "nope.json" r.json "$EMGMM" fit x.npy --resume nope.json -o r.json
  # A tampered history length is caught.
  "$PY" -c "
import json; c = json.load(open('ck.json')); c['checkpoint']['lower_bounds'].pop()
json.dump(c, open('bad.json', 'w'))"
  bad 3 "'checkpoint.lower_bounds' must hold n_iter = 4 numbers" r.json \
    "$EMGMM" fit x.npy --resume bad.json -o r.json
  # The same data in another format has the same fingerprint (values, not bytes).
  ok "$EMGMM" sample gen3.json -n 3000 --seed 2385 -o x.csv
  ok "$EMGMM" fit x.csv --resume ck.json --max-iter 6 -q -o r.json
  bad 2 "the checkpoint ck.json cannot also be the model or labels output" "" \
    "$EMGMM" fit x.npy --resume ck.json -o ck.json
  bad 2 "the checkpoint c3.json cannot also be the model or labels output" c3.json \
    "$EMGMM" fit x.npy -k 3 --checkpoint c3.json --labels c3.json -o r3.json
  # An unwritable checkpoint directory fails before the fit.
  bad 3 "cannot create no/such/ck.json" r5.json "$EMGMM" fit x.npy -k 3 --checkpoint no/such/ck.json -o r5.json
}

case "$GROUP" in
resume) group_resume ;;
signals) group_signals ;;
memory) group_memory ;;
errors) group_errors ;;
*) echo "unknown group $GROUP"; exit 2 ;;
esac
checks_done "$GROUP"
