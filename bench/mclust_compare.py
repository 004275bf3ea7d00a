#!/usr/bin/python3
"""bench/mclust_compare.py EMGMM.txt MCLUST.txt: pairs the per-fit lines of bench/mclust_sweep
and bench/mclust_bench.R by (model, K), and prints a Markdown table: seconds of each, the ratio,
and the relative difference of the final log-likelihoods (the same partitions and iterations,
so they should agree; VVE differs by design unless emgmm runs with mclust_compat)."""
import re
import sys


def parse(path):
    out = {}
    for line in open(path):
        m = re.match(r"(\w{3}) K=(\d+) ([\d.]+) s.*loglik (\S+)", line)
        if m:
            out[(m.group(1), int(m.group(2)))] = (float(m.group(3)), float(m.group(4)))
    return out


e, r = parse(sys.argv[1]), parse(sys.argv[2])
keys = [k for k in e if k in r]
print("| model | K | emgmm s | mclust s | mclust / emgmm | loglik rel. diff |")
print("|---|---|---|---|---|---|")
te = tr = 0.0
for k in keys:
    (se, le), (sr, lr) = e[k], r[k]
    te += se
    tr += sr
    ratio = f"{sr / se:.1f}" if se > 0 else "—"  # below the timers' resolution
    print(f"| {k[0]} | {k[1]} | {se:.3f} | {sr:.3f} | {ratio} | {abs(le - lr) / abs(lr):.1e} |")
total = f"ratio {tr / te:.1f}x" if te > 0 else "no ratio (emgmm below the timer's resolution)"
print(f"\n{len(keys)} fits in both: emgmm {te:.1f} s, mclust {tr:.1f} s, {total}")
