#!/usr/bin/env python3
"""bench_select.py — the model-selection sweep (issue 21, goal 6).

`emgmm select X.npy --k 1:12 --covariance all --table T.csv` against the obvious
scikit-learn loop over the same grid (four covariance types × K = 1..12, every other setting
at its default, the same tol), each in its own process, interleaved, repeated.  Reported:
wall seconds (median, min-max), CPU seconds (user + sys) and CPU/wall — how much of the
machine's cores each sweep kept busy — the ratios of the medians (wall and CPU; under load
the CPU ratio is the one to trust), the (type, K) each picks by BIC, and both sides'
iterations per (type, K) at the same tol.  --engines emgmm with --emgmm-args compares
emgmm's variants alone (e.g. --emgmm-args "--threads 1").

    /usr/bin/python3 bench/bench_select.py --build build --data-dir /tmp/bdata --repeats 3
"""
import argparse
import csv
import json
import os
import shlex
import statistics
import sys
import tempfile

from bench_common import PY, cpu_name, data_dir, engine_env, med, run

WHO = "bench_select"

SK_LOOP = r"""
import json, sys, time
import numpy as np
from sklearn.mixture import GaussianMixture
t0, c0 = time.perf_counter(), time.process_time()
X = np.load(sys.argv[1])
rows = []
for cov in ("full", "tied", "diag", "spherical"):
    for k in range(1, int(sys.argv[2]) + 1):
        gm = GaussianMixture(n_components=k, covariance_type=cov).fit(X)
        rows.append({"covariance": cov, "k": k, "bic": float(gm.bic(X)),
                     "n_iter": int(gm.n_iter_)})
print(json.dumps({"s": time.perf_counter() - t0, "cpu": time.process_time() - c0, "rows": rows}))
"""


def iter_table(erows, srows):
    """Iterations per (type, K) on both sides (the same tol), and where scikit-learn took fewer."""
    e = {(r["covariance_type"], int(r["k"])): r for r in erows}
    out, fewer, tot = [], [], {}
    for r in srows:
        x = e.get((r["covariance"], r["k"]))
        if not x or x["status"] != "ok":
            continue
        ei, si = int(x["n_iter"]), r["n_iter"]
        t = tot.setdefault(r["covariance"], [0, 0])
        t[0] += ei
        t[1] += si
        if si < ei:
            fewer.append(f"{r['covariance']} K={r['k']} ({si} < {ei})")
    out.append("| type | emgmm iterations (K = 1..) | scikit-learn iterations | sums |")
    out.append("|---|---|---|---|")
    for cov, (a, b) in tot.items():
        ei = [e[(cov, r["k"])]["n_iter"] for r in srows if r["covariance"] == cov]
        si = [str(r["n_iter"]) for r in srows if r["covariance"] == cov]
        out.append(f"| {cov} | {' '.join(ei)} | {' '.join(si)} | {a} / {b} |")
    out.append("\nscikit-learn took fewer iterations at: " + (", ".join(fewer) or "none"))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--data-dir", default="/tmp/emgmm-bench-data")
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--d", type=int, default=16)
    ap.add_argument("--true-k", type=int, default=8, help="components of the generated data")
    ap.add_argument("--kmax", type=int, default=12)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--coretype", default="unset")
    ap.add_argument("--emgmm-args", default="", help="more options for emgmm select")
    ap.add_argument("--engines", default="emgmm,sklearn", help="emgmm, sklearn or both")
    ap.add_argument("--out", default=None, help="path without extension (.md, .json)")
    a = ap.parse_args()
    engines = a.engines.split(",")
    env = engine_env(a.threads, a.coretype)
    path = data_dir(a.data_dir, a.n, a.d, a.true_k)
    X = os.path.join(path, "X.npy")
    tmp = tempfile.mkdtemp(prefix="sel")
    table = os.path.join(tmp, "t.csv")
    emgmm = os.path.join(a.build, "tools", "emgmm")
    e, s = {"wall": [], "cpu": []}, {"wall": [], "cpu": [], "in": [], "cpu_in": []}
    loads, out = [os.getloadavg()[0]], None
    for _ in range(a.repeats):
        if "emgmm" in engines:
            wall, cpu, _ = run([emgmm, "select", X, "--k", f"1:{a.kmax}", "--covariance", "all",
                                "--table", table, "-q", "--threads", str(a.threads)]
                               + shlex.split(a.emgmm_args), env, WHO)
            e["wall"].append(wall); e["cpu"].append(cpu)
        if "sklearn" in engines:
            wall, cpu, out = run([PY, "-c", SK_LOOP, X, str(a.kmax)], env, WHO)
            r = json.loads(out)
            s["wall"].append(wall); s["cpu"].append(cpu)
            s["in"].append(r["s"]); s["cpu_in"].append(r["cpu"])
        loads.append(os.getloadavg()[0])
    erows = [r for r in csv.DictReader(open(table))] if e["wall"] else []
    srows = json.loads(out)["rows"] if out else []
    os.remove(table) if e["wall"] else None
    os.rmdir(tmp)
    model, _ = cpu_name()
    M = statistics.median
    md = ["# Model-selection sweep (issue 21, goal 6)\n",
          f"CPU: {model}; {a.threads} threads; OPENBLAS_CORETYPE {a.coretype}; data "
          f"{a.n:,} × {a.d} ({a.true_k} true components); grid: full, tied, diag, spherical × "
          f"K = 1..{a.kmax}, defaults (tol 1e-3, k-means init); {a.repeats} interleaved "
          f"repeats; load (1-min average) {min(loads):.1f}–{max(loads):.1f}; "
          f"`{' '.join(sys.argv)}`\n",
          "| engine | wall s | CPU s (user + sys) | CPU / wall |", "|---|---|---|---|"]
    if e["wall"]:
        md.append(f"| emgmm select {a.emgmm_args} | {med(e['wall'])} | {med(e['cpu'])} | "
                  f"{M(e['cpu']) / M(e['wall']):.2f} |")
    if s["wall"]:
        md += [f"| scikit-learn loop (in-process: np.load and the fits) | {med(s['in'])} | "
               f"{med(s['cpu_in'])} | {M(s['cpu_in']) / M(s['in']):.2f} |",
               f"| scikit-learn loop (whole process, imports included) | {med(s['wall'])} | "
               f"{med(s['cpu'])} | {M(s['cpu']) / M(s['wall']):.2f} |"]
    ratio = cratio = None
    if e["wall"] and s["wall"]:
        ratio = M(s["in"]) / M(e["wall"])
        cratio = M(s["cpu_in"]) / M(e["cpu"])
        md += [f"\n**Ratio of the medians, scikit-learn in-process / emgmm whole process: "
               f"wall {ratio:.1f}×, CPU {cratio:.1f}×**\n",
               "Under load the wall ratio measures the scheduler as much as the code; the CPU "
               "ratio counts the work each side did (emgmm's OpenMP threads spin briefly at "
               "the end of a parallel region, which CPU time counts).\n"]
    if erows and srows:
        ok = [r for r in erows if r["status"] == "ok"]
        eb = min(ok, key=lambda r: float(r["bic"]))
        sb = min(srows, key=lambda r: r["bic"])
        md.append(f"Best by BIC: emgmm {eb['covariance_type']} K = {eb['k']} (BIC "
                  f"{float(eb['bic']):.6g}); scikit-learn {sb['covariance']} K = {sb['k']} "
                  f"(BIC {sb['bic']:.6g}).\n")
        md += iter_table(erows, srows)
    text = "\n".join(md) + "\n"
    print(text)
    if a.out:
        open(a.out + ".md", "w").write(text)
        json.dump({"emgmm": e, "sklearn": s, "ratio_wall": ratio, "ratio_cpu": cratio,
                   "emgmm_args": a.emgmm_args, "emgmm_rows": erows, "sklearn_rows": srows,
                   "load": loads}, open(a.out + ".json", "w"), indent=1)


if __name__ == "__main__":
    main()
