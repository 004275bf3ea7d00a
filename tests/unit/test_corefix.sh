#!/usr/bin/env bash
# test_corefix.sh — the tool's answer to the BLAS core trap: when OpenBLAS
# reports a generic core on a CPU with AVX2/AVX-512, `emgmm` re-runs itself with
# OPENBLAS_CORETYPE set and says so; EMGMM_NO_COREFIX=1 turns that off; a
# user's own OPENBLAS_CORETYPE is left alone.  $1 = emgmm, $2 = fakecore.so.
set -u
emgmm=$1 shim=$2
if ! grep -qE '\bavx2\b' /proc/cpuinfo; then echo "CPU without AVX2: nothing to fix"; exit 77; fi
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../common/checks.sh
. "$HERE/../common/checks.sh"

out=$(env -u OPENBLAS_CORETYPE -u EMGMM_COREFIX_FROM LD_PRELOAD="$shim" "$emgmm" info 2>&1) || fail "info exited $?"
echo "$out" | grep -q "re-ran itself with OPENBLAS_CORETYPE=" || fail "no re-run note: $out"
echo "$out" | grep -q "^blas core: Prescott" && fail "still on the generic core: $out"
echo "$out" | grep -qE "^OPENBLAS_CORETYPE: (SkylakeX|Haswell)" || fail "variable not set: $out"

out=$(env -u OPENBLAS_CORETYPE EMGMM_NO_COREFIX=1 LD_PRELOAD="$shim" "$emgmm" info 2>&1) || fail "info exited $?"
echo "$out" | grep -q "^blas core: Prescott" || fail "opt-out ignored: $out"
echo "$out" | grep -q "warning: OpenBLAS runs the generic 'Prescott' kernels" || fail "no warning: $out"

out=$(OPENBLAS_CORETYPE=Haswell LD_PRELOAD="$shim" "$emgmm" info 2>&1) || fail "info exited $?"
echo "$out" | grep -q "re-ran" && fail "overrode the user's OPENBLAS_CORETYPE: $out"
echo "$out" | grep -q "^OPENBLAS_CORETYPE: Haswell" || fail "user's setting lost: $out"
checks_done corefix
