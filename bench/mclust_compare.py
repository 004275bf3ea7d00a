#!/usr/bin/python3
"""bench/mclust_compare.py EMGMM.txt MCLUST.txt [--cpu]: pairs the per-fit lines of
bench/mclust_sweep and bench/mclust_bench.R by (model, K), and prints a Markdown table: seconds
of each, the ratio, and the signed relative difference of the final log-likelihoods (the same
partitions and iterations, so they should agree; VVE differs by design unless emgmm runs with
mclust_compat).  With --cpu the seconds are CPU seconds (the measure on a loaded machine, for
one thread), else wall seconds.  Then the same per model (summed over K) and per group (the six
diagonal structures, the eight full ones)."""
import re
import sys


CPU = "--cpu" in sys.argv[3:]


def parse(path):
    out = {}
    for line in open(path):
        m = re.match(r"(\w{3}) K=(\d+) ([\d.]+) s.*loglik (\S+)", line)
        if m:
            c = re.search(r" cpu ([\d.]+) s", line)
            secs = float(c.group(1)) if CPU and c else float(m.group(3))
            out[(m.group(1), int(m.group(2)))] = (secs, float(m.group(4)))
    return out


e, r = parse(sys.argv[1]), parse(sys.argv[2])
keys = [k for k in e if k in r]
unit = "CPU s" if CPU else "s"
print(f"| model | K | emgmm {unit} | mclust {unit} | mclust / emgmm | loglik emgmm − mclust, rel. |")
print("|---|---|---|---|---|---|")
te = tr = 0.0
for k in keys:
    (se, le), (sr, lr) = e[k], r[k]
    te += se
    tr += sr
    ratio = f"{sr / se:.1f}" if se > 0 else "—"  # below the timers' resolution
    print(f"| {k[0]} | {k[1]} | {se:.3f} | {sr:.3f} | {ratio} | {(le - lr) / abs(lr):+.1e} |")
total = f"ratio {tr / te:.1f}x" if te > 0 else "no ratio (emgmm below the timer's resolution)"
print(f"\n{len(keys)} fits in both: emgmm {te:.1f} {unit}, mclust {tr:.1f} {unit}, {total}")

MODELS = ["EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE", "EEV", "VEV",
          "EVV", "VVV"]
print(f"\n| model | emgmm {unit} (K = 1..9) | mclust {unit} | mclust / emgmm |")
print("|---|---|---|---|")
groups = {"diagonal (6)": MODELS[:6], "full (8)": MODELS[6:]}
rows = [(mo, [mo]) for mo in MODELS] + [(f"**{g}**", ms) for g, ms in groups.items()]
for name, ms in rows:
    se = sum(e[k][0] for k in keys if k[0] in ms)
    sr = sum(r[k][0] for k in keys if k[0] in ms)
    if se > 0 or sr > 0:
        ratio = f"{sr / se:.1f}" if se > 0 else "—"
        print(f"| {name} | {se:.2f} | {sr:.2f} | {ratio} |")
