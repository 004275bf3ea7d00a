#!/usr/bin/env bash
# check_builds.sh LIBEMGMM_A SRC_DIR — every kernel built more than once is
# chosen by EMGMM_ISA (src/em/kernels.h, EMGMM_VERSIONS), none by the loader:
#   - no target_clones in src/ and no clone or resolver symbols in the library
#     (GCC names them f.avx2.0, f.default.1, f.resolver);
#   - for every build f_v4 there are f_v3 and f_v1 (the dispatcher f itself
#     may be inlined where it is static).
set -u
lib=$1 src=$2
fail() { echo "FAIL: $*"; exit 1; }
command -v nm >/dev/null || fail "nm is not installed (binutils, tools/install-deps.sh)"
[ -f "$lib" ] || fail "no library at $lib"
if grep -rn --include='*.[ch]' 'target_clones *(' "$src" | grep -v '^[^:]*:[0-9]*: *\*\|/\*'; then
  fail "target_clones in src/: the loader, not EMGMM_ISA, would pick that kernel's build"
fi
syms=$(nm "$lib" 2>/dev/null | awk 'NF >= 2 {print $NF}' | sort -u)
bad=$(grep -E '\.(resolver|default\.[0-9]+|avx2\.[0-9]+|avx512f\.[0-9]+|arch_x86_64_v[34]\.[0-9]+)$' <<<"$syms")
[ -z "$bad" ] || fail "clone symbols in the library: $(echo $bad)"
n=0
for v4 in $(grep -E '_v4$' <<<"$syms"); do
  f=${v4%_v4}
  for s in "${f}_v3" "${f}_v1"; do
    grep -qx -- "$s" <<<"$syms" || fail "$f has a build ${f}_v4 but no $s"
  done
  n=$((n + 1))
done
case "$(uname -m)" in
  x86_64)
    [ "$n" -gt 0 ] || fail "no versioned kernels in the library (EMGMM_VERSIONS built only once?)"
    echo "$n kernels with AVX-512, AVX2 and baseline builds, each chosen by EMGMM_ISA" ;;
  *) echo "not x86-64: one build of each kernel ($n versioned)" ;;
esac
