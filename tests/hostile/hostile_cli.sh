#!/usr/bin/env bash
# hostile_cli.sh — hostile input to the emgmm tool end to end, one group per meson test:
#   hostile_cli.sh EMGMM GROUP   (GROUP: files, numbers, sizes)
# Each case must fail with its exit code and a one-line "emgmm: " message, create no output and
# no temporary file, and (outside ASan, which needs its large address space) do so under a 1 GB
# address-space limit, so a reader that sized a buffer from the file's claims would fail instead.
set -u
EMGMM=$(realpath "$1")
GROUP=$2
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../common/checks.sh
. "$HERE/../common/checks.sh"
scratch hostile
# ok and bad run each command under a 1 GB address-space limit (not under ASan)
CHECK_ULIMIT_KB=1048576
case "${ASAN_OPTIONS:-}${LD_PRELOAD:-}" in *?*) CHECK_ULIMIT_KB=unlimited ;; esac

cat >true.json <<'JSON'
{"format": "emgmm-model", "version": 1, "covariance_type": "full",
 "n_components": 2, "n_features": 3,
 "weights": [0.35, 0.65],
 "means": [[-1.25, 2.385, 7.5], [4.125, -3.75, 0.625]],
 "covariances": [[[1.21, 0.33, -0.1], [0.33, 0.64, 0.05], [-0.1, 0.05, 2.25]],
                 [[0.49, -0.07, 0.0], [-0.07, 1.44, 0.2], [0.0, 0.2, 0.81]]]}
JSON
"$EMGMM" sample true.json -n 300 --seed 2385 -o x.csv || { echo "cannot make data"; exit 1; }
"$EMGMM" sample true.json -n 300 --seed 2385 -o x.npy || { echo "cannot make data"; exit 1; }

# npy FILE DESCR FORTRAN SHAPE NVALUES [MAJOR [HLEN]]: a .npy whose header says what it is told
npy() {
  "$PY" - "$@" <<'PYEOF'
import struct, sys
path, descr, fortran, shape, nvals = sys.argv[1:6]
major = int(sys.argv[6]) if len(sys.argv) > 6 else 1
d = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape)
pre = 10 if major == 1 else 12
pad = (64 - (pre + len(d) + 1) % 64) % 64
h = d + " " * pad + "\n"
hlen = int(sys.argv[7]) if len(sys.argv) > 7 else len(h)
lf = struct.pack("<H", hlen) if major == 1 else struct.pack("<I", hlen)
vals = [1.5 + 0.25 * i for i in range(int(nvals))]
open(path, "wb").write(b"\x93NUMPY" + bytes([major, 0]) + lf + h.encode() + struct.pack("<%dd" % len(vals), *vals))
PYEOF
}

group_files() {
  # truncated files: .npy in its header and in its data, CSV in a row, raw mid-row, model JSON
  head -c 9 x.npy >t9.npy
  bad 3 "t9.npy is not a .npy file" o.csv "$EMGMM" predict true.json t9.npy -o o.csv
  head -c 60 x.npy >t60.npy
  bad 3 "exceeds the file (60 bytes)" o.json "$EMGMM" fit t60.npy -k 2 -o o.json
  head -c 1000 x.npy >t1000.npy
  bad 3 "needs 7200 data bytes, the file has 872" o.json "$EMGMM" fit t1000.npy -k 2 -o o.json
  head -c 2000 x.csv | head -c -1 >tr.csv # ends inside a row
  bad 3 "(tr.csv:" o.csv "$EMGMM" predict true.json tr.csv -o o.csv
  "$EMGMM" sample true.json -n 10 -o x10.npy && tail -c 240 x10.npy | head -c 236 >tr.f64
  bad 3 "236 bytes is not a whole number of rows of 3 f64 values" o.csv \
    "$EMGMM" predict true.json tr.f64 --format f64 --dims 3 -o o.csv
  head -c 300 true.json >trunc.json
  bad 3 "invalid JSON" o.csv "$EMGMM" predict trunc.json x.csv -o o.csv
  bad 3 "invalid JSON" o.json "$EMGMM" fit x.csv --init trunc.json -o o.json
  # lying .npy headers: a shape bigger than the file (C and Fortran order), one that overflows
  # size_t, unknown dtypes, a huge header length; and .npy data behind a .csv name
  npy lie.npy '<f8' False '(300000000, 3)' 9
  bad 3 "shape (300000000, 3) of <f8 needs 7200000000 data bytes, the file has 72" o.json \
    "$EMGMM" fit lie.npy -k 2 -o o.json
  npy lief.npy '<f4' True '(3, 300000000)' 9
  bad 3 "needs 3600000000 data bytes" o.csv "$EMGMM" predict true.json lief.npy -o o.csv
  npy ovf.npy '<f8' False '(4294967296, 4294967296)' 6
  bad 3 "the file has 48" o.json "$EMGMM" fit ovf.npy -k 1 -o o.json
  npy ovf2.npy '<f8' False '(99999999999999999999999, 3)' 6
  bad 3 "'shape' overflows" o.json "$EMGMM" fit ovf2.npy -k 1 -o o.json
  for dt in '<i8' '|u1' '<f2' '<c16' '>f8' '|O' '<U8'; do
    npy dt.npy "$dt" False '(2, 3)' 6
    bad 3 "unsupported dtype '$dt'" o.json "$EMGMM" fit dt.npy -k 1 -o o.json
  done
  npy hl.npy '<f8' False '(2, 3)' 6 2 4294967295
  bad 3 ".npy header length 4294967295 exceeds the file" o.json "$EMGMM" fit hl.npy -k 1 -o o.json
  npy hl3.npy '<f8' False '(2, 3)' 6 3 1048577
  bad 3 "exceeds the file" o.csv "$EMGMM" score true.json hl3.npy --per-sample -o o.csv
  npy v9.npy '<f8' False '(2, 3)' 6 9
  bad 3 "unsupported .npy format version 9.0" o.json "$EMGMM" fit v9.npy -k 1 -o o.json
  npy 3d.npy '<f8' False '(1, 2, 3)' 6
  bad 3 "more than 2 dimensions" o.json "$EMGMM" fit 3d.npy -k 1 -o o.json
  npy named.csv '<f8' False '(300000000, 3)' 9
  bad 3 "needs 7200000000 data bytes" o.json "$EMGMM" fit named.csv -k 1 -o o.json
  # a model whose shape claims are absurd, or whose numbers overflow
  sed 's/"n_components": 2/"n_components": 1048576/' true.json >bigk.json
  bad 3 "field 'weights' has 2 entries, expected 1048576" o.csv \
    "$EMGMM" predict bigk.json x.csv -o o.csv
  sed 's/"n_components": 2, "n_features": 3/"n_components": 1048576, "n_features": 1048576/' \
    true.json >huge.json
  bad 3 "model too large" o.json "$EMGMM" sample huge.json -n 5 -o o.json
  sed 's/-1.25/-1.25e999/' true.json >ovf.json
  bad 3 "real number overflow" o.csv "$EMGMM" predict ovf.json x.csv -o o.csv
  sed 's/-1.25/NaN/' true.json >nan.json
  bad 3 "invalid JSON" o.csv "$EMGMM" predict nan.json x.csv -o o.csv
  # an existing output survives every failed run above
  echo precious >keep.csv
  bad 3 "needs 7200000000 data bytes" "" "$EMGMM" predict true.json lie.npy -o keep.csv
  [ "$(cat keep.csv)" = precious ] || fail "a failed predict replaced keep.csv"
}

group_numbers() {
  # NaN/Inf spelled every way, overflowed and float32-overflowing numbers, non-UTF-8 bytes
  printf '1,2,3\n4,nan,6\n' >a.csv
  bad 3 "non-finite value 'nan' in field 2 (a.csv:2:3)" o.json "$EMGMM" fit a.csv -k 1 -o o.json
  printf '1,2,3\n4,5,-Infinity\n' >a.csv
  bad 3 "non-finite value '-Infinity' in field 3 (a.csv:2:5)" o.csv \
    "$EMGMM" predict true.json a.csv -o o.csv
  printf '1,2,3\n4,1e999,6\n' >a.csv
  bad 3 "non-finite value '1e999' in field 2 (a.csv:2:3)" o.json "$EMGMM" fit a.csv -k 1 -o o.json
  printf '1;2;3\n4;-1e400;6\n' >a.csv
  bad 3 "non-finite value '-1e400'" o.csv "$EMGMM" score true.json a.csv --per-sample -o o.csv
  printf '1,2,3\n4,1e39,6\n' >a.csv
  bad 3 "value '1e39' in field 2 overflows float32 (a.csv:2:3)" o.json \
    "$EMGMM" fit a.csv -k 1 --dtype float32 -o o.json
  printf '1,2,3\n4,\377\376,6\n' >a.csv
  bad 3 "non-numeric value '??' in field 2 (a.csv:2:3)" o.json "$EMGMM" fit a.csv -k 1 -o o.json
  printf '1,2,3\n4,5\3406\n' >a.csv
  bad 3 "non-numeric value '5?6'" o.json "$EMGMM" fit a.csv -k 1 -o o.json
  printf '1,2,3\n4,5,6\0\n' >a.csv
  bad 3 "non-numeric value '6?'" o.json "$EMGMM" fit a.csv -k 1 -o o.json
  printf '1,2,3\n4,5,6\033[2J\n' >a.csv
  bad 3 "non-numeric value '6?[2J'" o.json "$EMGMM" fit a.csv -k 1 -o o.json
  # NaN and Inf in binary data: the library names the row and column
  npy nan.npy '<f8' False '(2, 3)' 6
  "$PY" -c "
import struct; b = bytearray(open('nan.npy','rb').read()); b[-16:-8] = struct.pack('<d', float('inf'))
open('nan.npy','wb').write(bytes(b))"
  bad 3 "row 1, column 1" o.json "$EMGMM" fit nan.npy -k 1 -o o.json
  # a model with non-UTF-8 bytes or a control character in a string
  printf '{"format": "emgmm-model\377", "version": 1}' >u.json
  bad 3 "invalid JSON: unable to decode byte 0xff" o.csv "$EMGMM" predict u.json x.csv -o o.csv
  sed 's/"full"/"fu\\nll\\u001b[31m"/' true.json >c.json
  bad 3 "not \"fu?ll?[31m\"" o.csv "$EMGMM" predict c.json x.csv -o o.csv
  printf '{"format": \001}' >c2.json
  bad 3 "invalid JSON: invalid token near '?'" o.csv "$EMGMM" predict c2.json x.csv -o o.csv
  # file names with a newline or invalid UTF-8 stay on one line
  bad 3 "cannot open no?such.csv" o.json "$EMGMM" fit $'no\nsuch.csv' -k 1 -o o.json
  # underflow and subnormals are numbers (as strtod and numpy read them)
  { head -3 x.csv; printf '1e-999,4.9e-324,-0.0\n'; } >under.csv
  ok "$EMGMM" score true.json under.csv
}

group_sizes() {
  # K, iterations, seeds and dims beyond their ranges, or overflowing long / uint64 / double
  bad 2 "-k: expected an integer in [1, 1048576], got '1000000000'" o.json \
    "$EMGMM" fit x.csv -k 1000000000 -o o.json
  bad 2 "-k: expected an integer" o.json "$EMGMM" fit x.csv -k 99999999999999999999999 -o o.json
  bad 2 "-k: expected an integer" o.json "$EMGMM" fit x.csv -k 1e9 -o o.json
  bad 2 "--seed: expected an integer in [0, 2^64-1], got '18446744073709551616'" o.json \
    "$EMGMM" fit x.csv -k 2 --seed 18446744073709551616 -o o.json
  bad 2 "--seed: expected an integer" o.json "$EMGMM" fit x.csv -k 2 --seed -1 -o o.json
  bad 2 "--tol: expected a finite number >= 0, got '1e999'" o.json \
    "$EMGMM" fit x.csv -k 2 --tol 1e999 -o o.json
  bad 2 "--reg-covar: expected a finite number" o.json "$EMGMM" fit x.csv -k 2 --reg-covar nan -o o.json
  bad 2 "--max-iter: expected an integer" o.json "$EMGMM" fit x.csv -k 2 --max-iter 2147483648 -o o.json
  bad 2 "--n-init: expected an integer" o.json "$EMGMM" fit x.csv -k 2 --n-init 1048577 -o o.json
  bad 2 "--dims: expected an integer in [1, 1073741824]" o.json \
    "$EMGMM" fit x.csv -k 2 --format f64 --dims 18446744073709551617 -o o.json
  bad 2 "--threads: expected an integer" o.json "$EMGMM" fit x.csv -k 2 --threads 100000 -o o.json
  bad 2 "--k: more than 10000 values of K" o.json "$EMGMM" select x.csv --k 1:1048576 -o o.json
  bad 2 "--k: expected an integer in [1, 1048576], got '1000000000'" o.json \
    "$EMGMM" select x.csv --k 1:1000000000 -o o.json
  bad 2 "-n: expected an integer" o.npy "$EMGMM" sample true.json -n 1099511627777 -o o.npy
  # sizes in range that cannot fit: refused up front, not by being killed
  bad 3 "300 samples (with weight > 0) for 1048576 components" o.json \
    "$EMGMM" fit x.csv -k 1048576 -o o.json
  bad 5 "out of disk space" o.npy "$EMGMM" sample true.json -n 1099511627776 -o o.npy
  # n·d overflowing size_t in raw data: the column count cannot divide the file
  head -c 64 /dev/zero >z.f64
  bad 3 "64 bytes is not a whole number of rows of 1073741824 f64 values" o.json \
    "$EMGMM" fit z.f64 --dims 1073741824 -k 1 -o o.json
}

case "$GROUP" in
  files | numbers | sizes) "group_$GROUP" ;;
  *) echo "unknown group $GROUP"; exit 2 ;;
esac
checks_done "$GROUP"
