#!/usr/bin/env bash
# check-generic-blas.sh — the build on a generic CBLAS (meson -Dblas=generic) compiles, links
# and works: in a throwaway build directory, against Debian's reference BLAS and LAPACK
# (libblas-dev's cblas-netlib.h and blas/libblas.so.3, liblapack3's lapack/liblapack.so.3;
# the system's alternatives point cblas.h and libblas.so at OpenBLAS, so two small
# pkg-config files (cblas, lapack) and an include directory select the reference ones).
# The same build is the portable one (-DEMGMM_NO_CLONES: each kernel built once, for the
# compiler's target, as on a CPU or compiler without the x86-64 multi-builds; issue 21
# goal 4). Then: no OpenBLAS loaded in the tool, `emgmm info` says the BLAS is generic and
# the kernels portable, and the engine tests, the missing-data tests and a CLI fit pass.
# Usage: bash tools/check-generic-blas.sh [BUILDDIR]   (ends with "N passed, N failed")
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
B=${1:-build-generic-blas}
case "$B" in /*) ;; *) B=$ROOT/$B ;; esac
PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "   ok   $*"; }
failc() { FAILED=$((FAILED + 1)); echo "FAILED: $*"; }
done_() { echo "$PASSED passed, $FAILED failed"; [ "$FAILED" -eq 0 ]; exit $?; }
ML=/usr/lib/x86_64-linux-gnu
if [ ! -e /usr/include/x86_64-linux-gnu/cblas-netlib.h ] || [ ! -e $ML/blas/libblas.so.3 ] ||
   [ ! -e $ML/lapack/liblapack.so.3 ]; then
  failc "Debian's reference BLAS/LAPACK missing (tools/install-deps.sh installs libblas-dev, liblapack-dev)"
  done_
fi
rm -rf "$B"
mkdir -p "$B/ref/include" "$B/ref/lib" "$B/ref/pkgconfig"
echo '#include <cblas-netlib.h>' >"$B/ref/include/cblas.h"
ln -s $ML/blas/libblas.so.3 "$B/ref/lib/libblas.so"
ln -s $ML/blas/libblas.so.3 "$B/ref/lib/libblas.so.3"
ln -s $ML/lapack/liblapack.so.3 "$B/ref/lib/liblapack.so.3"
ln -s $ML/lapack/liblapack.so.3 "$B/ref/lib/liblapack.so"
cat >"$B/ref/pkgconfig/cblas.pc" <<PC
Name: cblas
Description: the reference CBLAS (netlib), for emgmm's generic-BLAS build check
Version: 3
Cflags: -I$B/ref/include
Libs: -L$B/ref/lib -lblas
PC
cat >"$B/ref/pkgconfig/lapack.pc" <<PC
Name: lapack
Description: the reference LAPACK (netlib), for emgmm's generic-BLAS build check
Version: 3
Libs: -L$B/ref/lib -llapack
PC
export PKG_CONFIG_PATH=$B/ref/pkgconfig
# the reference LAPACK under liblapacke, and the reference BLAS, at run time
export LD_LIBRARY_PATH=$B/ref/lib
if meson setup "$B/build" -Dblas=generic --werror -Dbench=false -Dpython=disabled -Dmpi=disabled \
    -Dhdf5=disabled -Dc_args=-DEMGMM_NO_CLONES >"$B/setup.log" 2>&1 && grep -q 'BLAS *: generic CBLAS (cblas)' "$B/setup.log"; then
  pass "meson setup -Dblas=generic (generic CBLAS from pkg-config 'cblas')"
else
  tail -20 "$B/setup.log"; failc "meson setup -Dblas=generic"; done_
fi
if ninja -C "$B/build" >"$B/ninja.log" 2>&1; then
  pass "build with warnings as errors"
else
  tail -30 "$B/ninja.log"; failc "ninja -C $B/build"; done_
fi
E=$B/build/tools/emgmm
if ldd "$E" | grep -q openblas; then
  failc "the tool still loads OpenBLAS: $(ldd "$E" | grep -E 'blas|lapack')"
else
  pass "no OpenBLAS in the tool ($(ldd "$E" | grep -oE '=> [^ ]*lib(blas|lapack)\.so\.3' | tr '\n' ' '))"
fi
if "$E" info 2>&1 | grep -q 'generic CBLAS'; then
  pass "emgmm info names the generic CBLAS"
else
  failc "emgmm info: $("$E" info 2>&1 | head -5)"
fi
if "$E" info 2>&1 | grep -q '^kernels: portable' && ! nm "$B/build/src/libemgmm.a" | grep -q '_v4$'; then
  pass "one build of each kernel (EMGMM_NO_CLONES): emgmm info says kernels: portable"
else
  failc "the portable build: $("$E" info 2>&1 | grep kernels), $(nm "$B/build/src/libemgmm.a" | grep -c '_v4$') _v4 builds"
fi
if meson test -C "$B/build" --num-processes 2 --print-errorlogs recovery errors determinism \
    properties kernels kmeans textbook_agreement sklearn_fixtures missing cli_fit >"$B/test.log" 2>&1; then
  pass "engine and CLI tests on the reference BLAS ($(grep -c ' OK ' "$B/test.log") tests)"
else
  grep -E '^ *[0-9]+/[0-9]+ ' "$B/test.log"; failc "tests on the reference BLAS (details: $B/test.log)"
fi
done_
