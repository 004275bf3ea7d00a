#!/usr/bin/env bash
# mpi_issue15_test.sh — issue 15 under mpirun:  mpi_issue15_test.sh EMGMM MPIRUN
#   resume: a checkpoint written by P ranks resumes under Q ranks (2→1, 1→2, 2→2, 2→3) to the
#     uninterrupted fit's model (1e-10 relative; byte for byte for the same P);
#   signals: SIGTERM to mpirun stops the job after the same iteration on every rank, saves the
#     checkpoint and the model (rank 0, atomically), and every rank exits 6; the checkpoint
#     resumes (2 ranks and 1 process) to the uninterrupted fit; SIGTERM that reaches one rank
#     only stops all of them too (mpirun then exits 6);
#   weights: fit and select --weights on 2 ranks equal one process (1e-10), and a bad weight in
#     rank 1's rows is reported once, exit 3, no output.
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
scratch mpi15
mpi_data "$EMGMM"
"$EMGMM" sample truth.json -n 1001 --seed 13 -o plain.csv || { echo "cannot sample"; exit 1; }
{ echo "x0,x1,x2"; cat plain.csv; } >hdr.csv

# --- resume under another number of ranks ------------------------------------------------
# The uninterrupted fits (12 iterations) and the checkpoints after 5, for P = 1 and 2; each
# resume works on a copy (a resumed fit goes on checkpointing into the file it resumed).
for src in data.npy hdr.csv; do
  CK=(fit $src -k 3 --init random_from_data --seed 6 --tol 0 -q)
  for p in 1 2; do
    run $p "$EMGMM" "${CK[@]}" --max-iter 12 -o full$p.json 2>err.txt &&
      run $p "$EMGMM" "${CK[@]}" --max-iter 5 -o part$p.json --checkpoint ck$p.json ||
      fail "$src: fit/checkpoint on $p ranks: $(cat err.txt)"
  done
  [ "$(ck_field ck2.json '["checkpoint"]["version"]')" = 2 ] || fail "$src: the checkpoint is not version 2"
  for pq in 2:1 1:2 2:2 2:3; do
    p=${pq%:*} q=${pq#*:}
    cp ck$p.json res.json
    run $q "$EMGMM" fit $src --resume res.json --max-iter 12 -q -o res$p$q.json 2>err.txt ||
      fail "$src: resume of a $p-rank checkpoint on $q ranks: $(cat err.txt)"
    close full1.json res$p$q.json || fail "$src: $p→$q ranks: the resumed model differs from one process's"
    [ "$q" = 3 ] || close full$q.json res$p$q.json ||
      fail "$src: $p→$q ranks: the resumed model differs from $q ranks' uninterrupted one"
  done
  cmp -s full2.json res22.json || fail "$src: 2→2 ranks: not the uninterrupted fit byte for byte"
  # without the launcher too (one process, not under mpirun)
  cp ck2.json res.json
  "$EMGMM" fit $src --resume res.json --max-iter 12 -q -o res2x.json 2>err.txt ||
    fail "$src: resume of a 2-rank checkpoint without mpirun: $(cat err.txt)"
  cmp -s full1.json res2x.json || close full1.json res2x.json || fail "$src: 2→plain: differs"
done
# other data is still refused, naming both fingerprints
"$EMGMM" sample truth.json -n 3001 --seed 12 -o other.npy
cp ck2.json res.json
run 2 "$EMGMM" fit other.npy --resume res.json --max-iter 12 -q -o bad.json >/dev/null 2>err.txt
[ $? -eq 3 ] && [ "$(grep -c '^emgmm: .*is not the data the checkpoint' err.txt)" -eq 1 ] ||
  fail "other data resumed on 2 ranks: $(cat err.txt)"
[ -e bad.json ] && fail "a refused resume wrote bad.json"

# --- SIGTERM under mpirun ----------------------------------------------------------------
# A fit long enough to be stopped: 2e5 x 3 rows, tol 0, many iterations.
"$EMGMM" sample truth.json -n 200000 --seed 5 -o big.npy || { echo "cannot sample"; exit 1; }
LONG=(fit big.npy --init init.json --tol 0 -q)
# rank.sh DIR CMD...: CMD as one rank, its exit status in DIR/rc.RANK.  The shell ignores
# SIGTERM (it is not the fit); the fit catches it with its own handler.
cat >rank.sh <<'S'
#!/bin/bash
dir=$1
shift
trap '' TERM
"$@"
s=$?
echo $s >"$dir/rc.$OMPI_COMM_WORLD_RANK"
exit $s
S
chmod +x rank.sh
# wait_log LOG: until the fit's --log has 3 iterations (at most 120 s)
wait_log() {
  for _ in $(seq 1200); do
    local n
    n=$(grep -c '"event": "iteration"' "$1" 2>/dev/null)
    [ "${n:-0}" -ge 3 ] && return 0
    sleep 0.1
  done
  return 1
}
# Open MPI's mpirun, on SIGTERM, waits odls_base_sigkill_timeout seconds (default 1), sends
# SIGTERM to the ranks, waits as long again and sends SIGKILL: 10 s here leave the ranks,
# on a loaded machine, the time to finish the iteration and write (docs/mpi.md).
rm -f ck.json model.json rc.* log.jsonl
"$MPIRUN" --allow-run-as-root --oversubscribe --mca odls_base_sigkill_timeout 10 -np 2 \
  ./rank.sh "$PWD" "$EMGMM" "${LONG[@]}" --max-iter 1000000 --checkpoint ck.json \
  --checkpoint-every 100000 -o model.json --log log.jsonl >/dev/null 2>err.txt &
job=$!
if wait_log log.jsonl; then
  kill -TERM $job
  wait $job
  [ "$(cat rc.0 2>/dev/null)" = 6 ] || fail "SIGTERM to mpirun: rank 0 exited $(cat rc.0 2>/dev/null): $(cat err.txt)"
  [ "$(cat rc.1 2>/dev/null)" = 6 ] || fail "SIGTERM to mpirun: rank 1 exited $(cat rc.1 2>/dev/null): $(cat err.txt)"
  [ "$(grep -c '^emgmm: fit: interrupted by SIGTERM at iteration [0-9]*; model so far in model.json, checkpoint in ck.json$' err.txt)" -eq 1 ] ||
    fail "SIGTERM to mpirun: not one 'interrupted' line: $(cat err.txt)"
  [ "$(grep -c '^emgmm:' err.txt)" -eq 1 ] || fail "SIGTERM to mpirun: other messages: $(cat err.txt)"
  stop=$(ck_field ck.json '["checkpoint"]["n_iter"]')
  [ "$(ck_field model.json '["n_iter"]')" = "$stop" ] && [ "$stop" -ge 2 ] ||
    fail "SIGTERM to mpirun: model n_iter $(ck_field model.json '["n_iter"]') vs checkpoint $stop"
  grep -q "at iteration $stop;" err.txt || fail "SIGTERM to mpirun: the message names another iteration"
  no_temps "SIGTERM to mpirun"
  # resumed to 3 more iterations: the uninterrupted fit's model, on 2 ranks and 1 process
  end=$((stop + 3))
  run 2 "$EMGMM" "${LONG[@]}" --max-iter $end -o long2.json 2>err.txt || fail "uninterrupted 2 ranks: $(cat err.txt)"
  "$EMGMM" "${LONG[@]}" --max-iter $end -o long1.json 2>err.txt || fail "uninterrupted 1 process: $(cat err.txt)"
  cp ck.json ckr.json
  run 2 "$EMGMM" fit big.npy --resume ckr.json --max-iter $end -q -o resumed2.json 2>err.txt ||
    fail "resume after SIGTERM on 2 ranks: $(cat err.txt)"
  cmp -s long2.json resumed2.json || fail "resume after SIGTERM on 2 ranks: not the uninterrupted fit byte for byte"
  cp ck.json ckr.json
  "$EMGMM" fit big.npy --resume ckr.json --max-iter $end -q -o resumed1.json 2>err.txt ||
    fail "resume after SIGTERM in 1 process: $(cat err.txt)"
  close long1.json resumed1.json || fail "resume after SIGTERM in 1 process: differs"
else
  fail "the long fit logged no iterations: $(cat err.txt)"
  kill -TERM $job
  wait $job
fi

# SIGTERM to one rank only (a signal that reaches the ranks at different moments): all stop
# after the same iteration; mpirun exits 6, the ranks' status
rm -f ck.json model.json log.jsonl
"$MPIRUN" --allow-run-as-root --oversubscribe -np 2 "$EMGMM" "${LONG[@]}" --max-iter 1000000 --checkpoint ck.json --checkpoint-every 100000 \
  -o model.json --log log.jsonl >/dev/null 2>err.txt &
job=$!
if wait_log log.jsonl; then
  # the ranks are mpirun's children, in rank order of their start
  ranks=$(ps -o pid= --ppid $job --sort=start_time)
  set -- $ranks
  if [ $# -eq 2 ]; then
    kill -TERM "$2"
  else
    fail "expected 2 rank processes under mpirun, found: $ranks"
    kill -TERM $job
  fi
  wait $job
  rc=$?
  [ $rc -eq 6 ] || fail "SIGTERM to one rank: mpirun exited $rc: $(cat err.txt)"
  [ "$(grep -c '^emgmm: fit: interrupted by SIGTERM at iteration' err.txt)" -eq 1 ] ||
    fail "SIGTERM to one rank: not one 'interrupted' line: $(cat err.txt)"
  [ "$(ck_field model.json '["n_iter"]')" = "$(ck_field ck.json '["checkpoint"]["n_iter"]')" ] ||
    fail "SIGTERM to one rank: model and checkpoint disagree"
  no_temps "SIGTERM to one rank"
else
  fail "the long fit logged no iterations: $(cat err.txt)"
  kill -TERM $job
  wait $job
fi

# --- weights ------------------------------------------------------------------------------
"$PY" - <<'P' || { echo "cannot make weights"; exit 1; }
import random
rng = random.Random(7)
open("w3001.csv", "w").write("".join(f"{rng.randrange(5)}\n" for _ in range(3001)))
w = [rng.choice((0.5, 1.25, 2.385, 0.0)) for _ in range(1001)]
open("w1001.csv", "w").write("w\n" + "".join(f"{v}\n" for v in w))
w[900] = -0.25  # rank 1 of 2 holds the later rows
open("neg1001.csv", "w").write("w\n" + "".join(f"{v}\n" for v in w))
P
for src in data.npy:w3001.csv hdr.csv:w1001.csv; do
  d=${src%:*} w=${src#*:}
  "$EMGMM" fit $d --init init.json --tol 0 --max-iter 15 -q --weights $w -o w1.json ||
    fail "weighted fit of $d in one process"
  for np in 2 3; do
    run $np "$EMGMM" fit $d --init init.json --tol 0 --max-iter 15 -q --weights $w -o w$np.json \
      2>err.txt || fail "weighted fit of $d on $np ranks: $(cat err.txt)"
    close w1.json w$np.json || fail "weighted fit of $d on $np ranks differs from one process"
  done
  "$EMGMM" select $d --k 1:3 --init random_from_data --seed 2 --max-iter 20 --weights $w \
    --table s1.csv -q || fail "weighted select of $d in one process"
  run 2 "$EMGMM" select $d --k 1:3 --init random_from_data --seed 2 --max-iter 20 --weights $w \
    --table s2.csv -q 2>err.txt || fail "weighted select of $d on 2 ranks: $(cat err.txt)"
  table_close s1.csv s2.csv ||
    fail "weighted select of $d: 2 ranks' table differs from one process's"
done
for cmd in "fit hdr.csv --init init.json" "select hdr.csv --k 1:2"; do
  rm -f out.json
  run 2 "$EMGMM" $cmd --weights neg1001.csv -o out.json >/dev/null 2>err.txt
  rc=$?
  [ $rc -eq 3 ] || fail "$cmd, a negative weight on rank 1: exit $rc: $(cat err.txt)"
  [ "$(grep -c '^emgmm: weights file neg1001.csv: the weight of row 900 is negative' err.txt)" -eq 1 ] &&
    [ "$(grep -c '^emgmm:' err.txt)" -eq 1 ] || fail "$cmd, a negative weight on rank 1: $(cat err.txt)"
  [ -e out.json ] && fail "$cmd, a negative weight on rank 1: out.json written"
  run 2 "$EMGMM" $cmd --weights w3001.csv -o out.json >/dev/null 2>err.txt
  [ $? -eq 3 ] && [ "$(grep -c '^emgmm: weights file w3001.csv has 3001 rows but hdr.csv has 1001' err.txt)" -eq 1 ] ||
    fail "$cmd, wrong row count on 2 ranks: $(cat err.txt)"
done
no_temps "weights on 2 ranks"

checks_done mpi_issue15
