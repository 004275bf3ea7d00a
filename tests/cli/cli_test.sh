#!/usr/bin/env bash
# cli_test.sh — end-to-end tests of the emgmm tool, one group per meson test:
#   cli_test.sh EMGMM GROUP   (GROUP: fit, predict, formats, sample, errors, misc)
# Each check asserts an exit code and, for failures, the message and that no output appeared.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
EMGMM=$(realpath "$1")
GROUP=$2
# shellcheck source=../common/checks.sh
. "$HERE/../common/checks.sh"
scratch cli

# A hand-written model (only the required fields): the data generator.
cat >true.json <<'EOF'
{"format": "emgmm-model", "version": 1, "covariance_type": "full",
 "n_components": 2, "n_features": 3,
 "weights": [0.35, 0.65],
 "means": [[-1.25, 2.385, 7.5], [4.125, -3.75, 0.625]],
 "covariances": [[[1.21, 0.33, -0.1], [0.33, 0.64, 0.05], [-0.1, 0.05, 2.25]],
                 [[0.49, -0.07, 0.0], [-0.07, 1.44, 0.2], [0.0, 0.2, 0.81]]]}
EOF
"$EMGMM" sample true.json -n 3000 --seed 2385 -o x.csv --labels truth.csv || { echo "cannot make data"; exit 1; }

py_json() { "$PY" -c "import json,sys; m=json.load(open(sys.argv[1])); print($2)" "$1"; }

group_fit() {
  ok "$EMGMM" fit x.csv -k 2 -o m.json --labels l.csv
  [ "$(py_json m.json 'm["n_components"], m["format"], len(m["covariances"][0]), m["converged"]')" = "2 emgmm-model 3 True" ] ||
    fail "model file content: $(head -c 300 m.json)"
  grep -q 'fit: 2 components, .* iterations, converged' err.txt || fail "no fit summary"
  # fit → save → load → predict gives the library's own labels
  ok "$EMGMM" predict m.json x.csv -o p.csv
  same l.csv p.csv
  # the fit recovers the generating parameters (labels may be permuted)
  "$PY" - m.json <<'EOF' || fail "fitted parameters far from the truth"
import json, sys
m = json.load(open(sys.argv[1]))
order = sorted(range(2), key=lambda k: m["means"][k][0])
w = [m["weights"][k] for k in order]; mu = [m["means"][k] for k in order]
assert abs(w[0] - 0.35) < 0.03, w
want = [[-1.25, 2.385, 7.5], [4.125, -3.75, 0.625]]
assert all(abs(a - b) < 0.12 for r, s in zip(mu, want) for a, b in zip(r, s)), mu
c = m["covariances"][order[0]]
assert abs(c[0][0] - 1.21) < 0.15 and abs(c[0][1] - 0.33) < 0.1, c
EOF
  # same seed → the same model, byte for byte; --progress/--log take the step-wise path
  ok "$EMGMM" fit x.csv -k 2 -o m2.json --progress --log log.jsonl
  same m.json m2.json
  grep -q 'iter    1  lower bound' err.txt || fail "no progress lines"
  grep -q '"event": "iteration", "iter": 1,' log.jsonl || fail "no iteration in log"
  grep -q '"event": "done"' log.jsonl || fail "no done in log"
  "$PY" -c "import json,sys; [json.loads(l) for l in open('log.jsonl')]" || fail "log is not JSON lines"
  # --init M.json --tol 0 --max-iter 10 runs exactly 10 iterations from M
  ok "$EMGMM" fit x.csv --init true.json --tol 0 --max-iter 10 -o i.json
  [ "$(py_json i.json 'm["n_iter"], m["init"]')" = "10 user" ] || fail "--init: $(grep -E 'n_iter|init' i.json)"
  ok "$EMGMM" fit x.csv --init true.json --tol 0 --max-iter 4 -o i4.json --progress
  [ "$(grep -c 'iter ' err.txt)" -eq 4 ] || fail "--progress with --init: $(cat err.txt)"
  # every init method, n_init > 1, float32, other covariance types
  for init in kmeans k-means++ random random_from_data; do
    ok "$EMGMM" fit x.csv -k 2 --init $init --seed 7 -o "m_$init.json" -q
  done
  ok "$EMGMM" fit x.csv -k 2 --n-init 3 --progress -o n3.json
  grep -q 'kept initialisation' err.txt || fail "n-init progress"
  ok "$EMGMM" fit x.csv -k 2 --dtype float32 -o f32.json
  for cov in tied diag spherical; do
    CHECKS=$((CHECKS + 1))
    "$EMGMM" fit x.csv -k 2 --covariance $cov -o "c_$cov.json" 2>err.txt
    rc=$?
    if [ $rc -eq 0 ]; then
      "$EMGMM" predict "c_$cov.json" x.csv >/dev/null || fail "predict with a $cov model"
    elif [ $rc -ne 2 ] || ! grep -q 'not supported' err.txt; then
      fail "--covariance $cov: exit $rc: $(cat err.txt)"
    fi
  done
  # model to stdout without -o; data from stdin
  ok "$EMGMM" fit x.csv -k 2 -q
  same out.txt m.json
  ok bash -c "'$EMGMM' fit - -k 2 -q < x.csv > sm.json"
  same sm.json m.json
  # a failing fit still ends its log with an error event
  awk -F, '{print $1","$2",2.385"}' x.csv >const.csv
  "$EMGMM" fit const.csv -k 2 --reg-covar 0 --log bad.jsonl -o o.json 2>/dev/null
  rc=$?
  check '[ $rc -eq 4 ] && tail -1 bad.jsonl | grep -q "\"event\": \"error\""' "log of a failed fit: $(tail -1 bad.jsonl)"
}

group_predict() {
  "$EMGMM" fit x.csv -k 2 -o m.json --labels l.csv -q || fail "fit"
  ok "$EMGMM" predict m.json x.csv --proba -o r.csv
  "$PY" - r.csv <<'EOF' || fail "responsibilities do not sum to 1"
import sys
rows = [list(map(float, l.split(","))) for l in open(sys.argv[1])]
assert len(rows) == 3000 and all(len(r) == 2 and abs(sum(r) - 1) < 1e-12 for r in rows)
EOF
  ok "$EMGMM" predict m.json x.csv --proba -o r.npy
  ok "$EMGMM" predict m.json x.csv -o l.npy
  "$PY" - l.npy r.npy l.csv <<'EOF' || fail ".npy outputs"
import struct, sys
def load(p):
    b = open(p, "rb").read(); assert b[:6] == b"\x93NUMPY"
    h = struct.unpack("<H", b[8:10])[0]; hdr = eval(b[10:10 + h]); return hdr, b[10 + h:]
h, data = load(sys.argv[1])
assert h["descr"] == "<i4" and h["shape"] == (3000,), h
labels = struct.unpack("<3000i", data)
assert list(labels) == [int(l) for l in open(sys.argv[3])]
h, data = load(sys.argv[2])
assert h["descr"] == "<f8" and h["shape"] == (3000, 2) and len(data) == 48000, h
EOF
  ok "$EMGMM" score m.json x.csv
  s1=$(cat out.txt)
  ok "$EMGMM" score m.json x.csv --per-sample -o ll.csv --bic --aic
  "$PY" - "$s1" ll.csv out.txt <<'EOF' || fail "score and per-sample mean disagree"
import sys
v = [float(l) for l in open(sys.argv[2])]
assert len(v) == 3000 and abs(sum(v) / len(v) - float(sys.argv[1])) < 1e-9
lines = open(sys.argv[3]).read().split("\n")
assert abs(float(lines[0]) - float(sys.argv[1])) < 1e-9 and lines[1].startswith("bic ") and lines[2].startswith("aic ")
EOF
  # per-sample to stdout: the mean moves to stderr
  ok "$EMGMM" score m.json x.csv --per-sample
  [ "$(wc -l <out.txt)" -eq 3000 ] && awk -v s="$s1" 'NR == 1 && ($1 - s) ^ 2 < 1e-18 {ok = 1} END {exit !ok}' err.txt ||
    fail "score --per-sample to stdout: $(cat err.txt) vs $s1"
  # stdin
  ok bash -c "'$EMGMM' predict m.json - < x.csv > s.csv"
  same l.csv s.csv
  # blocks: more rows than one predict block (65,536)
  "$EMGMM" sample m.json -n 70001 --seed 5 -o big.npy || fail "sample big"
  ok "$EMGMM" predict m.json big.npy -o bl.csv
  [ "$(wc -l <bl.csv)" -eq 70001 ] || fail "blocked predict row count"
  ok "$EMGMM" predict m.json big.npy --proba -o bp.npy
  [ "$(stat -c %s bp.npy)" -eq $((128 + 70001 * 16)) ] || fail "blocked proba size $(stat -c %s bp.npy)"
}

group_formats() {
  "$EMGMM" fit x.csv -k 2 -o m.json --labels l.csv -q || fail "fit"
  # the same data in every format predicts the same labels
  tr , '\t' <x.csv >x.tsv
  tr , ';' <x.csv >x.semi
  tr , ' ' <x.csv | sed 's/^/  /' >x.txt
  { printf '\xef\xbb\xbfa,b,c\r\n'; sed 's/$/\r/' x.csv; } >x_bom.csv
  { echo '"col 1","col,2",c3'; cat x.csv; } >x_hdr.csv
  "$EMGMM" sample true.json -n 3000 --seed 2385 -o x.npy || fail "npy sample"
  for f in x.tsv x.semi x.txt x_bom.csv x_hdr.csv x.npy; do
    ok "$EMGMM" predict m.json "$f" -o "p_$f.csv"
    same l.csv "p_$f.csv"
  done
  ok "$EMGMM" predict m.json x.semi --format csv --delimiter ';' -o p2.csv
  same l.csv p2.csv
  # a numeric-looking header needs --header; quoted numbers are numbers
  { echo '1,2,3'; cat x.csv; } >x_numhdr.csv
  ok "$EMGMM" predict m.json x_numhdr.csv --header -o p3.csv
  same l.csv p3.csv
  sed 's/\([^,]*\),\([^,]*\),\(.*\)/"\1","\2","\3"/' x.csv >x_quoted.csv
  ok "$EMGMM" predict m.json x_quoted.csv -o p4.csv
  same l.csv p4.csv
  # raw binary, via the .npy payload (header is 128 bytes for this shape)
  tail -c $((3000 * 24)) x.npy >x.bin
  ok "$EMGMM" predict m.json x.bin --format f64 --dims 3 -o p_bin.csv
  same l.csv p_bin.csv
  # .npy variants written with Python's struct module (no numpy needed):
  # Fortran order, format 2.0, float32, and a 1-D column
  "$PY" - x.csv <<'EOF' || fail "cannot write .npy variants"
import struct, sys
rows = [[float(v) for v in l.split(",")] for l in open(sys.argv[1])]
def save(path, descr, fortran, shape, values, major=1):
    d = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape)
    pre = 10 if major == 1 else 12
    d += " " * ((64 - (pre + len(d) + 1) % 64) % 64) + "\n"
    size = struct.pack("<H" if major == 1 else "<I", len(d))
    fmt = "<%d%s" % (len(values), "d" if descr == "<f8" else "f")
    open(path, "wb").write(b"\x93NUMPY" + bytes([major, 0]) + size + d.encode() + struct.pack(fmt, *values))
n = len(rows)
save("xf.npy", "<f8", True, "(%d, 3)" % n, [r[j] for j in range(3) for r in rows])
save("xv2.npy", "<f8", False, "(%d, 3)" % n, [v for r in rows for v in r], major=2)
save("x32.npy", "<f4", False, "(%d, 3)" % n, [v for r in rows for v in r])
save("x1d.npy", "<f8", False, "(%d,)" % n, [r[0] for r in rows])
EOF
  for f in xf.npy xv2.npy; do
    ok "$EMGMM" predict m.json "$f" -o "p_$f.csv"
    same l.csv "p_$f.csv"
  done
  # float32 data: the f32 path, and its labels agree with float64 almost everywhere
  ok "$EMGMM" predict m.json x32.npy -o p32n.csv
  ok "$EMGMM" predict m.json x.csv --dtype float32 -o p32.csv
  same p32n.csv p32.csv
  [ "$(paste -d' ' l.csv p32.csv | awk '$1 != $2' | wc -l)" -le 3 ] || fail "float32 labels differ"
  # raw binary by extension
  cp x.bin x.f64
  ok "$EMGMM" predict m.json x.f64 --dims 3 -o p_f64.csv
  same l.csv p_f64.csv
  # a one-row file and a 1-D model
  head -1 x.csv >one.csv
  ok "$EMGMM" predict m.json one.csv -o p1.csv
  same p1.csv <(head -1 l.csv)
  cut -d, -f1 x.csv >x1.csv
  ok "$EMGMM" fit x1.csv -k 2 -o m1.json -q
  ok "$EMGMM" predict m1.json x1.csv -o p1d.csv
  [ "$(wc -l <p1d.csv)" -eq 3000 ] || fail "1-D predict"
  ok "$EMGMM" predict m1.json x1d.npy -o p1dn.csv
  same p1d.csv p1dn.csv
  # tsv output
  ok "$EMGMM" predict m.json x.csv --proba -o r.tsv
  [ "$(head -1 r.tsv | tr -cd '\t' | wc -c)" -eq 1 ] || fail "tsv output"
}

group_sample() {
  ok "$EMGMM" sample true.json -n 4000 --seed 11 -o a.npy --labels al.csv
  ok "$EMGMM" sample true.json -n 4000 --seed 11 -o b.npy
  same a.npy b.npy
  ok "$EMGMM" sample true.json -n 4000 --seed 12 -o c.npy
  check '! cmp -s a.npy c.npy' "different seeds gave the same sample"
  [ "$(wc -l <al.csv)" -eq 4000 ] || fail "sample labels"
  # sample → fit recovers the weights
  ok "$EMGMM" fit a.npy -k 2 -o f.json -q
  "$PY" - f.json al.csv <<'EOF' || fail "sample→fit weights"
import json, sys
m = json.load(open(sys.argv[1])); w = sorted(m["weights"])
share = sum(1 for l in open(sys.argv[2]) if l.strip() == "0") / 4000
assert abs(w[0] - 0.35) < 0.03 and abs(share - 0.35) < 0.03, (w, share)
EOF
  ok "$EMGMM" sample true.json -n 5 -o -
  [ "$(wc -l <out.txt)" -eq 5 ] && [ "$(head -1 out.txt | tr -cd , | wc -c)" -eq 2 ] || fail "sample to stdout"
  bad 2 "-n N is required" s.npy "$EMGMM" sample true.json -o s.npy
  bad 2 "-o FILE is required" "" "$EMGMM" sample true.json -n 5
  bad 2 "expected an integer" s.npy "$EMGMM" sample true.json -n -4 -o s.npy
}

group_errors() {
  "$EMGMM" fit x.csv -k 2 -o m.json -q || fail "fit"
  printf '1.5,2.25,3\n4,abc,6\n' >nonnum.csv
  printf '1.5,2.25,3\n4,5\n' >ragged.csv
  printf '1.5,2.25,3\n4,,6\n' >emptyf.csv
  : >empty.csv
  printf 'a,b,c\n' >hdronly.csv
  printf '1.5,2.25\n4,5\n' >twocol.csv
  bad 3 "cannot open missing.csv" o.csv "$EMGMM" fit missing.csv -k 2 -o o.csv
  bad 3 "non-numeric value 'abc' in field 2 (nonnum.csv:2:3)" o.json "$EMGMM" fit nonnum.csv -k 2 -o o.json
  bad 3 "ragged row: 2 fields, expected 3 (ragged.csv:2:4)" o.csv "$EMGMM" predict m.json ragged.csv -o o.csv
  bad 3 "empty field 2 (emptyf.csv:2:3)" o.csv "$EMGMM" predict m.json emptyf.csv -o o.csv
  bad 3 "empty.csv is empty" o.csv "$EMGMM" predict m.json empty.csv -o o.csv
  bad 3 "header but no data rows" o.csv "$EMGMM" predict m.json hdronly.csv -o o.csv
  bad 3 "shape mismatch: twocol.csv has 2 columns, the model m.json has 3 features" o.csv \
    "$EMGMM" predict m.json twocol.csv -o o.csv
  bad 3 "shape mismatch" o.json "$EMGMM" fit twocol.csv --init m.json -o o.json
  bad 3 "is not a .npy file" o.csv "$EMGMM" predict m.json x.csv --format npy -o o.csv
  bad 3 "not a whole number of rows" o.csv "$EMGMM" predict m.json x.csv --format f64 --dims 3 -o o.csv
  bad 2 "needs --dims" o.csv "$EMGMM" predict m.json x.csv --format f32 -o o.csv
  bad 2 "stdin" o.csv "$EMGMM" predict m.json - --format npy -o o.csv
  # NaN in binary data: found by the library, row and column reported; an
  # existing output survives the failed run
  { head -c 48 /dev/zero; printf '\x00\x00\x00\x00\x00\x00\xf8\x7f'; head -c 16 /dev/zero; } >nan.f64
  echo precious >keep.csv
  bad 3 "row 2, column 0" "" "$EMGMM" predict m.json nan.f64 --format f64 --dims 3 -o keep.csv
  [ "$(cat keep.csv)" = precious ] || fail "failed predict destroyed keep.csv"
  bad 3 "row 2, column 0" o.json "$EMGMM" fit nan.f64 --format f64 --dims 3 -k 1 -o o.json
  bad 3 "(nonnum.csv:2:3)" "" "$EMGMM" fit nonnum.csv -k 2 -o keep.csv
  [ "$(cat keep.csv)" = precious ] || fail "failed fit destroyed keep.csv"
  # bad model files name the field
  sed 's/0.35, 0.65/0.35, 0.6/' true.json >w.json
  bad 3 "field 'weights' sums to" o.csv "$EMGMM" predict w.json x.csv -o o.csv
  sed 's/\[0.49, -0.07, 0.0\]/[0.49, 5.0, 0.0]/; s/\[-0.07, 1.44, 0.2\]/[5.0, 1.44, 0.2]/' true.json >pd.json
  bad 3 "field 'covariances[1]' is not positive definite" o.csv "$EMGMM" predict pd.json x.csv -o o.csv
  head -c 100 true.json >trunc.json
  bad 3 "invalid JSON" o.csv "$EMGMM" score trunc.json x.csv
  bad 3 "bad model file" o.json "$EMGMM" fit x.csv --init w.json -o o.json
  # usage errors
  bad 2 "-k K is required" o.json "$EMGMM" fit x.csv -o o.json
  bad 2 "-k: expected an integer" o.json "$EMGMM" fit x.csv -k 0 -o o.json
  bad 2 "unknown option '--frobnicate'" o.json "$EMGMM" fit x.csv -k 2 --frobnicate -o o.json
  bad 2 "needs a value" "" "$EMGMM" fit x.csv -k
  bad 2 "--covariance: expected full" o.json "$EMGMM" fit x.csv -k 2 --covariance banded -o o.json
  bad 2 "--init: expected kmeans" o.json "$EMGMM" fit x.csv -k 2 --init kmean -o o.json
  bad 2 "--tol: expected a finite number" o.json "$EMGMM" fit x.csv -k 2 --tol -1 -o o.json
  bad 2 "-k 3 disagrees with m.json" o.json "$EMGMM" fit x.csv -k 3 --init m.json -o o.json
  bad 2 "expected MODEL and DATA" "" "$EMGMM" predict m.json
  bad 2 "unknown command 'fitt'" "" "$EMGMM" fitt x.csv
  bad 2 "--format: expected csv" "" "$EMGMM" predict m.json x.csv --format xls
  # too few samples, numerical failure (a constant column, no regularisation)
  head -2 x.csv >two.csv
  bad 3 "fit failed" o.json "$EMGMM" fit two.csv -k 3 -o o.json
  awk -F, '{print $1","$2",2.385"}' x.csv >const.csv
  bad 4 "fit failed" o.json "$EMGMM" fit const.csv -k 2 --reg-covar 0 -o o.json
  # unwritable output: refused before any work
  bad 3 "cannot create /nonexistent-dir/o.csv" "" "$EMGMM" predict m.json x.csv -o /nonexistent-dir/o.csv
  bad 3 "cannot create /nonexistent-dir/m.json" "" "$EMGMM" fit x.csv -k 2 -o /nonexistent-dir/m.json
  mkdir -p adir
  bad 3 "cannot write adir: it is a directory" "" "$EMGMM" fit x.csv -k 2 -o m3.json --labels adir
  [ ! -e m3.json ] || fail "fit wrote a model although --labels was unwritable"
  bad 3 "cannot create /nonexistent-dir/s.npy" "" "$EMGMM" sample m.json -n 5 -o /nonexistent-dir/s.npy
}

group_misc() {
  ok "$EMGMM" --version
  grep -q '^emgmm [0-9]\+\.[0-9]\+\.[0-9]\+$' out.txt || fail "--version: $(cat out.txt)"
  ok "$EMGMM" --help
  for c in fit predict score sample info demo; do
    ok "$EMGMM" $c --help
    grep -q "usage: emgmm $c" out.txt || fail "$c --help"
  done
  ok "$EMGMM" info
  for k in 'openmp: ' 'threads: ' 'blas core: ' 'blas config: '; do
    grep -q "^$k" out.txt || fail "info lacks '$k'"
  done
  ok "$EMGMM" demo
  "$PY" - out.txt <<'EOF' || fail "demo output: $(cat out.txt)"
import sys
lines = open(sys.argv[1]).read().split("\n")
rows = [l.split() for l in lines if l[:1].isdigit()]
comps = sorted((float(r[2]), float(r[1]), float(r[3])) for r in rows)
assert len(comps) == 2, rows
(m0, w0, s0), (m1, w1, s1) = comps
assert abs(w0 - 1/3) < 0.02 and abs(w1 - 2/3) < 0.02, comps
assert abs(m0 - 20) < 0.5 and abs(m1 - 40) < 0.5 and abs(s0 - 5) < 0.3 and abs(s1 - 5) < 0.3, comps
first = [l for l in lines if l.startswith("first 80 labels: ")][0].split(": ")[1].strip()
last = [l for l in lines if l.startswith("last 80 labels: ")][0].split(": ")[1].strip()
assert len(first) == 80 and len(last) == 80
assert first.count(first[0]) > 70 and last.count(last[0]) > 70 and first[0] != last[0]
EOF
  bad 2 "unexpected argument" "" "$EMGMM" demo --bogus
  "$EMGMM" >/dev/null 2>err.txt
  rc=$?
  check '[ $rc -eq 2 ] && grep -q "^usage: emgmm <command>" err.txt' "no-argument usage"
}

case "$GROUP" in
  fit | predict | formats | sample | errors | misc) "group_$GROUP" ;;
  *) echo "unknown group $GROUP"; exit 2 ;;
esac
checks_done "$GROUP"
