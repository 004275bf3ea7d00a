#!/usr/bin/env python3
"""bench_select.py — the model-selection sweep (issue 21, goal 6).

`emgmm select X.npy --k 1:12 --covariance all --table T.csv` against the obvious
scikit-learn loop over the same grid (four covariance types × K = 1..12, every other setting
at its default, the same tol), each in its own process, interleaved, repeated.  Reported:
wall seconds (median, min-max), CPU seconds (user + sys) and CPU/wall — how much of the
machine's cores each sweep kept busy — the ratio of the medians, and the (type, K) each
picks by BIC with the BIC values of both tables side by side for the picks.

    /usr/bin/python3 bench/bench_select.py --build build --data-dir /tmp/bdata --repeats 3
"""
import argparse
import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"

SK_LOOP = r"""
import json, sys, time
import numpy as np
from sklearn.mixture import GaussianMixture
t0 = time.perf_counter()
X = np.load(sys.argv[1])
rows = []
for cov in ("full", "tied", "diag", "spherical"):
    for k in range(1, int(sys.argv[2]) + 1):
        gm = GaussianMixture(n_components=k, covariance_type=cov).fit(X)
        rows.append({"covariance": cov, "k": k, "bic": float(gm.bic(X)),
                     "n_iter": int(gm.n_iter_)})
print(json.dumps({"s": time.perf_counter() - t0, "rows": rows}))
"""


def run(cmd, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"bench_select: {' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), p.stdout


def med(xs):
    return f"{statistics.median(xs):.3g} ({min(xs):.3g}–{max(xs):.3g})"


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
    ap.add_argument("--out", default=None, help="path without extension (.md, .json)")
    a = ap.parse_args()
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = str(a.threads)
    if a.coretype == "unset":
        env.pop("OPENBLAS_CORETYPE", None)
    else:
        env["OPENBLAS_CORETYPE"] = a.coretype
    path = os.path.join(a.data_dir, f"n{a.n}_d{a.d}_k{a.true_k}_s1")
    if not os.path.exists(os.path.join(path, "X.npy")):
        subprocess.run([PY, os.path.join(HERE, "gen_data.py"), "--n", str(a.n), "--d",
                        str(a.d), "--k", str(a.true_k), "--seed", "1", "--out", path],
                       check=True, capture_output=True)
    X = os.path.join(path, "X.npy")
    tmp = tempfile.mkdtemp(prefix="sel")
    table = os.path.join(tmp, "t.csv")
    emgmm = os.path.join(a.build, "tools", "emgmm")
    e, s, loads = {"wall": [], "cpu": []}, {"wall": [], "cpu": [], "in": []}, [os.getloadavg()[0]]
    for _ in range(a.repeats):
        wall, cpu, _ = run([emgmm, "select", X, "--k", f"1:{a.kmax}", "--covariance", "all",
                            "--table", table, "-q"], env)
        e["wall"].append(wall); e["cpu"].append(cpu)
        wall, cpu, out = run([PY, "-c", SK_LOOP, X, str(a.kmax)], env)
        s["wall"].append(wall); s["cpu"].append(cpu); s["in"].append(json.loads(out)["s"])
        loads.append(os.getloadavg()[0])
    erows = [r for r in csv.DictReader(open(table))]
    srows = json.loads(out)["rows"]
    ok = [r for r in erows if r["status"] == "ok"]
    ebest = min(ok, key=lambda r: float(r["bic"]))
    sbest = min(srows, key=lambda r: r["bic"])
    ratio = statistics.median(s["in"]) / statistics.median(e["wall"])
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((l.split(":", 1)[1].strip() for l in lscpu.splitlines()
                  if l.startswith("Model name")), "?")
    keys = list(erows[0].keys())
    md = ["# Model-selection sweep (issue 21, goal 6)\n",
          f"CPU: {model}; {a.threads} threads; OPENBLAS_CORETYPE {a.coretype}; data "
          f"{a.n:,} × {a.d} ({a.true_k} true components); grid: full, tied, diag, spherical × "
          f"K = 1..{a.kmax}, defaults (tol 1e-3, k-means init); {a.repeats} interleaved "
          f"repeats; load {min(loads):.1f}–{max(loads):.1f}; `{' '.join(sys.argv)}`\n",
          "| engine | wall s | CPU s | CPU / wall |", "|---|---|---|---|",
          f"| emgmm select | {med(e['wall'])} | {med(e['cpu'])} | "
          f"{statistics.median(e['cpu']) / statistics.median(e['wall']):.2f} |",
          f"| scikit-learn loop (in-process, np.load included) | {med(s['in'])} | "
          f"{med(s['cpu'])} | {statistics.median(s['cpu']) / statistics.median(s['wall']):.2f} |",
          f"| scikit-learn loop (whole process) | {med(s['wall'])} | | |",
          f"\n**Ratio (scikit-learn in-process / emgmm): {ratio:.1f}×**\n",
          f"Best by BIC: emgmm {ebest['covariance_type']} K = {ebest['k']} (BIC {float(ebest['bic']):.6g}); "
          f"scikit-learn {sbest['covariance']} K = {sbest['k']} (BIC {sbest['bic']:.6g}).",
          f"emgmm table columns: {', '.join(keys)}"]
    text = "\n".join(md) + "\n"
    print(text)
    if a.out:
        open(a.out + ".md", "w").write(text)
        json.dump({"emgmm": e, "sklearn": s, "ratio": ratio, "emgmm_rows": erows,
                   "sklearn_rows": srows, "load": loads}, open(a.out + ".json", "w"), indent=1)


if __name__ == "__main__":
    main()
