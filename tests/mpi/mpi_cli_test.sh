#!/usr/bin/env bash
# mpi_cli_test.sh — the emgmm tool under mpirun:  mpi_cli_test.sh EMGMM MPIRUN
# fit: P = 1, 2, 3 ranks give the single-process model (byte for byte with one rank,
# to 1e-10 relative otherwise) with a model-file, random_from_data and random init, from
# .npy and from CSV split at line starts (with and without a header, CRLF, no final
# newline, trailing blank lines); k-means|| does not depend on the split; more ranks than
# rows work.  predict, score and fit --labels outputs are byte-identical to one process's;
# select gives one process's table; a checkpointed fit resumes bit for bit.  A NaN in one rank's rows, a bad CSV line seen by one
# rank (named by the file's line), a blank line ending one rank's part, and a failure on
# one rank before the fit end every rank with one message, the right exit code and no
# output file.
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
scratch mpi
mpi_data "$EMGMM"
FIT=(fit data.npy --init init.json --tol 0 --max-iter 15 -q)
"$EMGMM" "${FIT[@]}" -o ref.json || { echo "single-process fit failed"; exit 1; }


run 1 "$EMGMM" "${FIT[@]}" -o p1.json 2>err.txt || fail "np 1: $(cat err.txt)"
cmp -s ref.json p1.json || fail "np 1 model is not byte-identical to the single-process one"
for np in 2 3; do
  run $np "$EMGMM" "${FIT[@]}" -o p$np.json 2>err.txt || fail "np $np: $(cat err.txt)"
  close ref.json p$np.json || fail "np $np model differs from the single-process one"
  [ -s err.txt ] && fail "np $np: unexpected stderr: $(cat err.txt)"
done
# accelerated EM (SQUAREM, Anderson) decides on the all-reduced lower bound: every rank makes
# the same decisions, and P = 1, 2, 3 give the single-process model
for acc in squarem anderson; do
  "$EMGMM" "${FIT[@]}" --accel $acc -o acc.json || fail "single-process $acc fit"
  run 1 "$EMGMM" "${FIT[@]}" --accel $acc -o acc1.json 2>err.txt || fail "$acc np 1: $(cat err.txt)"
  cmp -s acc.json acc1.json || fail "$acc np 1 model is not byte-identical to the single-process one"
  for np in 2 3; do
    run $np "$EMGMM" "${FIT[@]}" --accel $acc -o acc$np.json 2>err.txt || fail "$acc np $np: $(cat err.txt)"
    close acc.json acc$np.json || fail "$acc np $np model differs from the single-process one"
  done
done
# Anderson's subsample warm-up takes every 4th row by its global index: with 9003 rows (split
# 4501/4502 and 3001/3001/3001, so no rank but the first starts at a multiple of 4) the
# ranks together hold the one-process subsample, and P = 1, 2, 3 give the single-process model
"$EMGMM" sample truth.json -n 9003 --seed 12 -o data9.npy || fail "cannot sample 9003 rows"
# (two iterations: the model is then the warm-up's candidate's M-step, which a different
# subsample would change; later iterations converge and would hide it)
W=(fit data9.npy --init init.json --tol 0 --max-iter 2 -q --accel anderson)
"$EMGMM" "${W[@]}" --log w.jsonl -o w.json || fail "single-process warm-up fit"
p2=$(grep '"iter": 2,' w.jsonl | sed 's/.*"passes": \([0-9]*\).*/\1/')
[ "${p2:-0}" -gt 2 ] 2>/dev/null || fail "no warm-up at iteration 2: $(grep '"iter": 2,' w.jsonl)"
run 1 "$EMGMM" "${W[@]}" -o w1.json 2>err.txt || fail "warm-up np 1: $(cat err.txt)"
cmp -s w.json w1.json || fail "warm-up np 1 model is not byte-identical to the single-process one"
for np in 2 3; do
  run $np "$EMGMM" "${W[@]}" -o w$np.json 2>err.txt || fail "warm-up np $np: $(cat err.txt)"
  close w.json w$np.json || fail "warm-up np $np model differs from the single-process one"
done

# random_from_data draws the same global rows whatever the split
"$EMGMM" fit data.npy -k 3 --init random_from_data --seed 5 --tol 0 --max-iter 10 -q -o rfd1.json
run 3 "$EMGMM" fit data.npy -k 3 --init random_from_data --seed 5 --tol 0 --max-iter 10 -q \
  -o rfd3.json 2>err.txt || fail "random_from_data np 3: $(cat err.txt)"
close rfd1.json rfd3.json || fail "random_from_data: np 3 differs"

# the kmeans init (k-means||, then Lloyd, with several ranks) does not depend on the split
# (the search 'smem', fit's default, makes discrete choices on all-reduced sums whose last
# bits depend on the split: search_cli tests it under MPI)
for np in 2 3; do
  run $np "$EMGMM" fit data.npy -k 3 --init kmeans --seed 2 --tol 0 --max-iter 10 -q -o km$np.json 2>err.txt ||
    fail "kmeans init np $np: $(cat err.txt)"
done
close km2.json km3.json || fail "kmeans init: np 2 and np 3 differ"

# --init random hashes the global row index: P = 1, 2, 3 give the single-process model
"$EMGMM" fit data.npy -k 3 --init random --seed 4 --tol 0 --max-iter 10 -q -o rnd.json
run 1 "$EMGMM" fit data.npy -k 3 --init random --seed 4 --tol 0 --max-iter 10 -q -o rnd1.json ||
  fail "random np 1"
cmp -s rnd.json rnd1.json || fail "random np 1 is not byte-identical to the single-process model"
for np in 2 3; do
  run $np "$EMGMM" fit data.npy -k 3 --init random --seed 4 --tol 0 --max-iter 10 -q \
    -o rnd$np.json 2>err.txt || fail "random np $np: $(cat err.txt)"
  close rnd.json rnd$np.json || fail "random: np $np differs"
done

# CSV is split at line starts, each rank parsing its own bytes: P = 1, 2, 3 give the
# single-process model for 1001 rows (not divisible by 2 or 3) with and without a
# header, with CRLF line ends, and with no newline after the last line
"$EMGMM" sample truth.json -n 1001 --seed 13 -o plain.csv
{ echo "x0,x1,x2"; cat plain.csv; } >hdr.csv
sed 's/$/\r/' hdr.csv >crlf.csv
{ echo "# no final newline"; head -c -1 plain.csv; } >nonl.csv
{ cat plain.csv; printf '\n\n# trailing blank lines and a comment\n'; } >tail.csv
for f in plain hdr crlf nonl tail; do
  "$EMGMM" fit $f.csv --init init.json --tol 0 --max-iter 15 -q -o csv_$f.json ||
    fail "single-process fit of $f.csv"
  run 1 "$EMGMM" fit $f.csv --init init.json --tol 0 --max-iter 15 -q -o csv_${f}1.json ||
    fail "$f.csv np 1"
  cmp -s csv_$f.json csv_${f}1.json || fail "$f.csv np 1 is not byte-identical"
  for np in 2 3; do
    run $np "$EMGMM" fit $f.csv --init init.json --tol 0 --max-iter 15 -q -o csv_$f$np.json \
      2>err.txt || fail "$f.csv np $np: $(cat err.txt)"
    close csv_$f.json csv_$f$np.json || fail "$f.csv np $np differs from one process"
  done
done
run 3 "$EMGMM" fit crlf.csv -k 3 --init random --seed 4 --tol 0 --max-iter 10 -q -o rndc3.json ||
  fail "random init on split CSV"
"$EMGMM" fit crlf.csv -k 3 --init random --seed 4 --tol 0 --max-iter 10 -q -o rndc.json
close rndc.json rndc3.json || fail "random init on split CSV differs"
# more ranks than rows: rank 0 of 3 has none of the 2 rows
cat >one.json <<'J'
{"format": "emgmm-model", "version": 1, "covariance_type": "diag", "n_components": 1,
 "n_features": 2, "weights": [1.0], "means": [[0.5, -1.5]], "covariances": [[1.3, 0.7]]}
J
"$EMGMM" sample one.json -n 2 --seed 3 -o tiny.npy
"$EMGMM" fit tiny.npy --init one.json --tol 0 --max-iter 3 -q -o tiny1.json
run 3 "$EMGMM" fit tiny.npy --init one.json --tol 0 --max-iter 3 -q -o tiny3.json 2>err.txt ||
  fail "3 ranks, 2 rows: $(cat err.txt)"
close tiny1.json tiny3.json || fail "3 ranks, 2 rows: model differs"
# more ranks than CSV rows
"$EMGMM" sample one.json -n 2 --seed 3 -o two.csv
"$EMGMM" fit two.csv --init one.json --tol 0 --max-iter 2 -q -o two.json
run 3 "$EMGMM" fit two.csv --init one.json --tol 0 --max-iter 2 -q -o two3.json 2>err.txt ||
  fail "3 ranks, 2 CSV rows: $(cat err.txt)"
close two.json two3.json || fail "3 ranks, 2 CSV rows: model differs"

# bad_ranks CODE SUBSTRING NP ARGS...: exit CODE, SUBSTRING in exactly one "emgmm:" line, no out.json
bad_ranks() {
  local code=$1 msg=$2 np=$3
  CHECKS=$((CHECKS + 1))
  shift 3
  rm -f out.json
  run "$np" "$EMGMM" "$@" -o out.json >/dev/null 2>err.txt
  local rc=$?
  [ $rc -eq "$code" ] || fail "'$*' on $np ranks exited $rc, expected $code: $(head -c 600 err.txt)"
  local n
  n=$(grep -c "^emgmm: .*$msg" err.txt)
  [ "$n" -eq 1 ] || fail "'$*' on $np ranks: '$msg' reported $n times: $(head -c 600 err.txt)"
  [ -e out.json ] && fail "'$*' on $np ranks left out.json"
  return 0
}
# a NaN at row 2950 (rank 2 of 3 holds rows 2000..3000): reported once, by global row
cp data.npy nan.npy
"$PY" - nan.npy 2950 1 <<'P'
import struct, sys
path, row, col = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "r+b") as f:
    head = f.read(12)
    hl = struct.unpack("<H", head[8:10])[0] + 10 if head[6] == 1 else struct.unpack("<I", head[8:12])[0] + 12
    f.seek(hl + (row * 3 + col) * 8)
    f.write(struct.pack("<d", float("nan")))
P
bad_ranks 3 "row 2950, column 1" 3 fit nan.npy --init init.json
bad_ranks 3 "row 2950, column 1" 2 fit nan.npy --init init.json
# CSV errors seen by one rank: the file's line, once, exit 3, no model; the same
# message as one process gives
sed '900s/^[^,]*/abc/' hdr.csv >badnum.csv                 # rank 2 of 3, rank 1 of 2
sed '600s/,[^,]*\r*$//' hdr.csv >ragged.csv               # rank 1 of 3 and of 2
{ echo "a,b,c"; } >nohdr.csv
for np in 2 3; do
  bad_ranks 3 "non-numeric value 'abc' in field 1 (badnum.csv:900:1)" $np fit badnum.csv --init init.json
  bad_ranks 3 "ragged row: 2 fields, expected 3 (as the header) (ragged.csv:600:" $np fit ragged.csv --init init.json
  bad_ranks 3 "nohdr.csv has a header but no data rows" $np fit nohdr.csv --init init.json
done
"$EMGMM" fit badnum.csv --init init.json -o out.json 2>err1.txt
grep -q "(badnum.csv:900:1)" err1.txt || fail "one process names another line: $(cat err1.txt)"
# a blank line that ends one rank's part, with rows in the next part: only the
# ranks together see it (the split is the one mpi_glue.c makes for 2 parts)
# (a line of spaces is blank too; its length lets the midpoint fall inside it)
blank_line=$("$PY" - hdr.csv blank.csv <<'P'
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
for at in range(400, 700):
    text = b"\n".join(lines[:at] + [b" " * 100] + lines[at:]) + b"\n"
    ds = text.index(b"\n") + 1                  # after the header
    off = ds + (len(text) - ds) // 2
    if text[off - 1:off] != b"\n":
        off = text.index(b"\n", off) + 1
    if text[:off - 1].rsplit(b"\n", 1)[-1].strip() == b"":   # the last line of part 0
        open(sys.argv[2], "wb").write(text)
        print(at + 1)
        break
P
)
[ -n "$blank_line" ] || fail "could not place a blank line at the end of part 0"
bad_ranks 3 "empty line inside the data (blank.csv:$blank_line:1)" 2 fit blank.csv --init init.json
bad_ranks 3 "empty line inside the data (blank.csv:$blank_line:1)" 3 fit blank.csv --init init.json
bad_ranks 2 "fit, predict, score and select are distributed" 2 sample truth.json -n 5
rm -f out.json
run 2 "$EMGMM" fit - --init init.json -o out.json <plain.csv >/dev/null 2>err.txt
[ $? -eq 2 ] && grep -q "not stdin" err.txt || fail "stdin with 2 ranks: $(head -c 600 err.txt)"

# predict and score: each rank writes its rows' place of one file, byte-identical
# to one process's (CSV and .npy, labels, probabilities, log-densities, stdout);
# the mean log-likelihood and BIC/AIC are summed over the ranks
"$EMGMM" fit data.npy --init init.json --max-iter 5 -q -o m.json
for src in data.npy hdr.csv; do
  "$EMGMM" predict m.json $src -o lab.csv && "$EMGMM" predict m.json $src -o lab.npy &&
    "$EMGMM" predict m.json $src --proba -o pr.tsv && "$EMGMM" predict m.json $src --proba -o pr.npy &&
    "$EMGMM" predict m.json $src >lab.txt &&
    "$EMGMM" score m.json $src --per-sample -o sc.npy --bic --aic >mean.txt &&
    "$EMGMM" score m.json $src --per-sample -o sc.csv >/dev/null ||
    fail "single-process predict/score on $src"
  for np in 1 2 3; do
    rm -f p_*
    run $np "$EMGMM" predict m.json $src -o p_lab.csv 2>err.txt &&
      run $np "$EMGMM" predict m.json $src -o p_lab.npy &&
      run $np "$EMGMM" predict m.json $src --proba -o p_pr.tsv &&
      run $np "$EMGMM" predict m.json $src --proba -o p_pr.npy &&
      run $np "$EMGMM" predict m.json $src >p_lab.txt &&
      run $np "$EMGMM" score m.json $src --per-sample -o p_sc.npy --bic --aic >p_mean.txt &&
      run $np "$EMGMM" score m.json $src --per-sample -o p_sc.csv >/dev/null ||
      fail "predict/score on $src, np $np: $(cat err.txt)"
    for f in lab.csv lab.npy pr.tsv pr.npy lab.txt sc.npy sc.csv; do
      cmp -s $f p_$f || fail "predict/score on $src, np $np: $f is not byte-identical"
    done
    "$PY" - mean.txt p_mean.txt <<'P' || fail "score on $src, np $np: $(cat mean.txt p_mean.txt)"
import sys
a, b = ([float(l.split()[-1]) for l in open(f)] for f in sys.argv[1:3])
assert len(a) == len(b) == 3 and all(abs(x - y) <= 1e-10 * abs(x) for x, y in zip(a, b)), (a, b)
P
  done
done
# fit --labels: the training labels, each rank its rows, byte-identical
"$EMGMM" fit hdr.csv --init init.json --tol 0 --max-iter 5 -q -o fl.json --labels fl.npy
for np in 2 3; do
  run $np "$EMGMM" fit hdr.csv --init init.json --tol 0 --max-iter 5 -q -o fl$np.json \
    --labels fl$np.npy 2>err.txt || fail "fit --labels np $np: $(cat err.txt)"
  cmp -s fl.npy fl$np.npy || fail "fit --labels np $np: labels are not byte-identical"
done
# --checkpoint / --resume: rank 0 writes the checkpoint, every rank reads it; a fit
# stopped at 5 iterations and resumed to 12 is the uninterrupted fit byte for byte (same
# P); another P resumes too (issue 15: the fingerprint does not depend on the split;
# tests/mpi/mpi_issue15_test.sh compares the models)
CK=(fit hdr.csv -k 3 --init random_from_data --seed 6 --tol 0 -q)
for np in 2 3; do
  rm -f ck$np.json
  run $np "$EMGMM" "${CK[@]}" --max-iter 12 -o ckfull$np.json 2>err.txt &&
    run $np "$EMGMM" "${CK[@]}" --max-iter 5 -o ckpart$np.json --checkpoint ck$np.json &&
    run $np "$EMGMM" fit hdr.csv --resume ck$np.json --max-iter 12 -q -o ckres$np.json ||
    fail "checkpoint/resume np $np: $(cat err.txt)"
  cmp -s ckfull$np.json ckres$np.json || fail "np $np: the resumed fit is not the uninterrupted one"
done
run 3 "$EMGMM" fit hdr.csv --resume ck2.json --max-iter 12 -q -o ckres23.json 2>err.txt ||
  fail "a 2-rank checkpoint on 3 ranks: $(cat err.txt)"
# more ranks than rows, and a rank without rows writes nothing
"$EMGMM" predict one.json two.csv --proba -o two_pr.csv
run 3 "$EMGMM" predict one.json two.csv --proba -o two_pr3.csv 2>err.txt ||
  fail "predict, 3 ranks, 2 rows: $(cat err.txt)"
cmp -s two_pr.csv two_pr3.csv || fail "predict, 3 ranks, 2 rows: output differs"
# a bad CSV line seen by one rank: its line, once, exit 3, no output and no temporary
for np in 2 3; do
  bad_ranks 3 "(badnum.csv:900:1)" $np predict m.json badnum.csv
  bad_ranks 3 "(badnum.csv:900:1)" $np score m.json badnum.csv --per-sample
done
ls -A | grep -q '^\.out\.json\.' && fail "a failed predict/score left its temporary file"

# select: every (K, covariance type) fit is collective; rank 0 alone prints and writes.
# random_from_data: the table and best model of P = 1 (byte for byte), 2, 3 are one process's
SEL=(select hdr.csv --k 1:3 --init random_from_data --seed 2 --max-iter 20)
"$EMGMM" "${SEL[@]}" --table sel.csv -o selbest.json -q || fail "single-process select"
for np in 1 2 3; do
  run $np "$EMGMM" "${SEL[@]}" --table sel$np.csv -o selbest$np.json >sel$np.out 2>err.txt ||
    fail "select np $np: $(cat err.txt)"
  table_close sel.csv sel$np.csv || fail "select np $np: table differs from one process"
  close selbest.json selbest$np.json || fail "select np $np: best model differs"
  [ "$(grep -c '^best: K=' sel$np.out)" -eq 1 ] || fail "select np $np: the table is not printed once"
done
cmp -s sel.csv sel1.csv || fail "select np 1: table is not byte-identical"
# the default init (k-means||) does not depend on the split either
for np in 2 3; do
  run $np "$EMGMM" select data.npy --k 2:3 --covariance full,diag --seed 3 --max-iter 10 -q \
    --table selkm$np.csv 2>err.txt || fail "select kmeans np $np: $(cat err.txt)"
done
table_close selkm2.csv selkm3.csv || fail "select kmeans: np 2 and np 3 differ"
bad_ranks 3 "(badnum.csv:900:1)" 3 select badnum.csv --k 1:2

# a failure on rank 1 only, before the fit (MPMD: rank 1 is given a missing file):
# rank 0 must not wait in the fit; one message, rank 1's; exit 3; no model
rm -f out.json
"$MPIRUN" --allow-run-as-root --oversubscribe -np 1 "$EMGMM" fit data.npy --init init.json -o out.json \
  : -np 1 "$EMGMM" fit missing.npy --init init.json -o out.json >/dev/null 2>err.txt
rc=$?
[ $rc -eq 3 ] || fail "rank-1-only read failure exited $rc: $(head -c 600 err.txt)"
n=$(grep -c "^emgmm: cannot open missing.npy" err.txt)
[ "$n" -eq 1 ] || fail "rank-1-only read failure reported $n times: $(head -c 600 err.txt)"
[ "$(grep -c '^emgmm:' err.txt)" -eq 1 ] || fail "other ranks also reported: $(head -c 600 err.txt)"
[ -e out.json ] && fail "rank-1-only read failure left out.json"

checks_done mpi_cli
