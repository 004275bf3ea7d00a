#!/usr/bin/env bash
# test_isa.sh — EMGMM_ISA lowers the kernel path and never raises it; `emgmm
# info` names the path in use; every path fits the same model (the paths
# differ only in rounding: tiles against BLAS).  $1 = emgmm.
set -u
emgmm=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../common/checks.sh
. "$HERE/../common/checks.sh"
scratch isa
T=$PWD

path() { env EMGMM_ISA="$1" "$emgmm" info | sed -n 's/^kernels: //p'; }
best=$(env -u EMGMM_ISA "$emgmm" info | sed -n 's/^kernels: //p')
case $best in avx512|avx2|portable) ;; *) fail "info names no kernel path: '$best'" ;; esac
[ "$(path portable)" = portable ] || fail "EMGMM_ISA=portable gave $(path portable)"
want=avx2; [ "$best" = portable ] && want=portable
[ "$(path avx2)" = "$want" ] || fail "EMGMM_ISA=avx2 on a '$best' CPU gave $(path avx2)"
[ "$(path avx512)" = "$best" ] || fail "EMGMM_ISA=avx512 raised or lowered '$best' to $(path avx512)"
[ "$(path bogus)" = "$best" ] || fail "an unknown EMGMM_ISA changed the path to $(path bogus)"

# d = 12 > the fused kernel's 4, so the full family takes the triangular tiles
# where the path has them.
$PY - "$T/x.npy" <<'PYEOF' || { echo "cannot make data"; exit 1; }
import sys, numpy as np
g = np.random.default_rng(2385)
X = np.vstack([g.normal(3.0 * k, 1.0 + 0.25 * k, size=(700, 12)) for k in range(3)])
np.save(sys.argv[1], X)
PYEOF
# --init kmeans: the paths' last-bit differences must not meet the smem search's discrete
# choices, which may land on the same optimum with its components in another order
for p in avx512 avx2 portable; do
  EMGMM_ISA=$p "$emgmm" fit "$T/x.npy" -k 3 --init kmeans --seed 7 --tol 1e-8 -o "$T/m_$p.json" \
    --labels "$T/l_$p.csv" || fail "fit on path $p"
done
$PY - "$T" <<'PYEOF' || fail "the kernel paths disagree"
import json, sys
t = sys.argv[1]
m = {p: json.load(open(f"{t}/m_{p}.json")) for p in ("avx512", "avx2", "portable")}
for p in ("avx2", "portable"):
    a, b = m["avx512"]["lower_bound"], m[p]["lower_bound"]
    if abs(a - b) > 1e-10 * abs(a):
        sys.exit(f"FAIL: lower bound {b!r} on path {p} against {a!r}")
    if open(f"{t}/l_{p}.csv").read() != open(f"{t}/l_avx512.csv").read():
        sys.exit(f"FAIL: labels differ on path {p}")
print("paths agree:", {p: m[p]["lower_bound"] for p in m})
PYEOF
echo "best path $best"
checks_done isa_paths
