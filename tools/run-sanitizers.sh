#!/usr/bin/env bash
# run-sanitizers.sh — the whole test suite built with AddressSanitizer + UndefinedBehaviorSanitizer
# (in build-asan), then valgrind memcheck on a subset in a plain build (build-valgrind): the fast
# reader/fuzz-replay test programs and an `emgmm fit` / `predict` on a small CSV; last, the
# release build (-O3) compiled with warnings as errors (build-release).
# Usage: bash tools/run-sanitizers.sh   (from anywhere; ends with "N passed, N failed")
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
PASSED=0
FAILED=0
T0=$(date +%s)
note() { echo "== $*"; }
pass() { PASSED=$((PASSED + 1)); }
failc() { FAILED=$((FAILED + 1)); echo "FAILED: $*"; }

# ---------------------------------------------------------------- 1. ASan + UBSan, whole suite
# b_lundef=false: the sanitizer runtimes resolve symbols at load time, which meson's default
# -Wl,--no-undefined would refuse.
note "ASan+UBSan build (build-asan)"
if [ -d build-asan ]; then
  meson setup --reconfigure build-asan -Db_sanitize=address,undefined -Db_lundef=false \
    -Dbench=false >build-asan.setup.log 2>&1
else
  meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbench=false \
    >build-asan.setup.log 2>&1
fi || { cat build-asan.setup.log; failc "meson setup build-asan"; }
mv -f build-asan.setup.log build-asan/setup.log 2>/dev/null
# count_log LOG: one count per meson test, from meson's machine-readable log
count_log() {
  local ok bad
  read -r ok bad < <(/usr/bin/python3 - "$1" <<'PY'
import json, sys
ok = bad = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["result"] in ("OK", "EXPECTEDFAIL", "SKIP"):
        ok += 1
    else:
        bad += 1
        print("  sanitizer test failed: %s (%s)" % (r["name"], r["result"]), file=sys.stderr)
print(ok, bad)
PY
)
  PASSED=$((PASSED + ok))
  FAILED=$((FAILED + bad))
}
if ninja -C build-asan >build-asan/ninja.log 2>&1; then
  # verify_asan_link_order=0: the corefix test LD_PRELOADs a shim ahead of libasan on purpose.
  # allocator_may_return_null=1: an impossible size makes malloc return NULL, as it does without
  # ASan, so the tool's own out-of-memory path (exit 5, one line) is what gets tested.
  # halt_on_error: meson does not pass -fno-sanitize-recover, so this makes any report fatal.
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  asan=abort_on_error=1:verify_asan_link_order=0:allocator_may_return_null=1
  mpi_suite=$(meson test -C build-asan --list 2>/dev/null | grep -c '^emgmm:mpi / ')
  ASAN_OPTIONS=detect_leaks=1:$asan meson test -C build-asan --no-suite mpi --print-errorlogs \
    --timeout-multiplier 4 >build-asan/test.log 2>&1
  count_log build-asan/meson-logs/testlog.json
  grep -E "^(Ok|Fail|Timeout):" build-asan/test.log
  if [ "$mpi_suite" -gt 0 ]; then
    # Open MPI leaks in MPI_Init/Finalize from MCA components it dlclose()s before LSan runs, so
    # the reports cannot even be symbolised or suppressed; these tests run with leak detection
    # off (every other ASan and UBSan check on).
    ASAN_OPTIONS=detect_leaks=0:$asan meson test -C build-asan --suite mpi --print-errorlogs \
      --timeout-multiplier 4 >build-asan/test-mpi.log 2>&1
    count_log build-asan/meson-logs/testlog.json
    grep -E "^(Ok|Fail|Timeout):" build-asan/test-mpi.log
  fi
  [ "$FAILED" -eq 0 ] || echo "   (details: build-asan/test*.log, build-asan/meson-logs/testlog.txt)"
else
  tail -30 build-asan/ninja.log
  failc "ninja -C build-asan"
fi
T1=$(date +%s)
note "sanitizer suite: $((T1 - T0)) s"

# ---------------------------------------------------------------- 2. valgrind memcheck, subset
note "plain build for valgrind (build-valgrind)"
if [ ! -d build-valgrind ]; then
  meson setup build-valgrind -Dbench=false >/dev/null 2>&1 || failc "meson setup build-valgrind"
fi
if ! ninja -C build-valgrind >build-valgrind.ninja.log 2>&1; then
  tail -30 build-valgrind.ninja.log
  failc "ninja -C build-valgrind"
fi
rm -f build-valgrind.ninja.log
B=$ROOT/build-valgrind
W=$(mktemp -d "${TMPDIR:-/tmp}/emgmm_vg_XXXXXX")
trap 'rm -rf "$W"' EXIT
# Valgrind does not emulate AVX-512: pin OpenBLAS to its AVX2 kernels and keep the tool from
# re-executing itself with another core.  Two OpenMP threads, as the suite uses.
export OPENBLAS_CORETYPE=Haswell EMGMM_NO_COREFIX=1 OMP_NUM_THREADS=2
VG=(valgrind --tool=memcheck --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible
    --track-origins=yes --suppressions="$ROOT/tests/valgrind.supp" --quiet)
vg() { # NAME EXPECTED_EXIT CMD...: memcheck errors make valgrind exit 1, which no case expects
  local name=$1 want=$2 rc
  shift 2
  "${VG[@]}" --log-file="$W/$name.vg" "$@" >"$W/$name.out" 2>&1
  rc=$?
  if [ "$rc" -eq "$want" ] && [ ! -s "$W/$name.vg" ]; then
    pass
    echo "   ok   $name"
  else
    failc "valgrind $name (exit $rc, expected $want): $*"
    head -60 "$W/$name.vg" "$W/$name.out"
  fi
}
for t in io/test_io_csv io/test_io_npy io/test_io_model_json io/test_io_out core/test_errors; do
  [ -x "$B/tests/$t" ] && vg "$(basename "$t")" 0 "$B/tests/$t"
done
for t in csv npy raw model_json cli; do
  vg "fuzz_replay_$t" 0 "$B/tests/fuzz/fuzz_replay_$t" "$ROOT/tests/fuzz/corpus/$t"
done
# The tool end to end on a small CSV: fit (k-means init, EM, model write), predict, score.
E=$B/tools/emgmm
printf '%s\n' '{"format": "emgmm-model", "version": 1, "covariance_type": "full",' \
  '"n_components": 2, "n_features": 3, "weights": [0.35, 0.65],' \
  '"means": [[-1.25, 2.385, 7.5], [4.125, -3.75, 0.625]],' \
  '"covariances": [[[1.21, 0.33, -0.1], [0.33, 0.64, 0.05], [-0.1, 0.05, 2.25]],' \
  '[[0.49, -0.07, 0.0], [-0.07, 1.44, 0.2], [0.0, 0.2, 0.81]]]}' >"$W/true.json"
"$E" sample "$W/true.json" -n 500 --seed 2385 -o "$W/x.csv" || failc "emgmm sample (no valgrind)"
vg emgmm_fit 0 "$E" fit "$W/x.csv" -k 2 --covariance full -o "$W/m.json" -q
vg emgmm_predict 0 "$E" predict "$W/m.json" "$W/x.csv" -o "$W/labels.npy"
vg emgmm_score 0 "$E" score "$W/m.json" "$W/x.csv" --bic
vg emgmm_fit_diag_f32 0 "$E" fit "$W/x.csv" -k 3 --covariance diag --dtype float32 -o "$W/d.json" -q
# missing values: every 7th entry deleted (NA in CSV), then fit (full, and tied: the pattern
# cache and stored moments), score and impute with draws
awk -F, 'BEGIN{OFS=","} {for (j = 1; j <= NF; j++) if ((NR * 3 + j) % 7 == 0) $j = "NA"; print}' \
  "$W/x.csv" >"$W/xm.csv"
vg emgmm_fit_missing 0 "$E" fit "$W/xm.csv" -k 2 --missing nan -o "$W/mm.json" -q
vg emgmm_fit_missing_tied 0 "$E" fit "$W/xm.csv" -k 2 --covariance tied --missing nan -o "$W/mt.json" -q
vg emgmm_score_missing 0 "$E" score "$W/mm.json" "$W/xm.csv" --missing nan
vg emgmm_impute 0 "$E" impute "$W/mm.json" "$W/xm.csv" -o "$W/imp.csv" --multiple 2
# a failing run frees what it allocated too (exit 3: a model file is not CSV data)
vg emgmm_bad_input 3 "$E" fit "$W/true.json" -k 2 -o "$W/never.json" -q
T2=$(date +%s)
note "valgrind subset: $((T2 - T1)) s"

# ---------------------------------------------------------------- 3. release build, -O3
# The suite builds debugoptimized (-O2); GCC's -O3 inlining finds other "may be used
# uninitialized" paths, so the release build must compile with warnings as errors too.
note "release build, -O3, warnings as errors (build-release)"
rm -rf build-release
if meson setup build-release --buildtype=release --werror \
    >build-release.log 2>&1 && ninja -C build-release >>build-release.log 2>&1; then
  pass
  echo "   ok   release build"
else
  tail -30 build-release.log
  failc "release build (-O3 --werror)"
fi
rm -f build-release.log
T3=$(date +%s)
note "release build: $((T3 - T2)) s; total $((T3 - T0)) s"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
