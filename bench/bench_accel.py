#!/usr/bin/python3
"""bench_accel.py — data passes and seconds of plain EM against SQUAREM-accelerated EM
(emgmm fit --accel squarem, docs/accel.md) over a suite of problems (issue 18, part 1).

For each problem: plain EM runs from the k-means start with tol 1e-10 (up to --max-iter
iterations); its final lower bound is the optimum L*.  Plain and accelerated EM (same start,
same seed) are then each charged the data passes and EM seconds (the sum of the iterations'
times, initialisation excluded) until their lower bound first comes within 1e-6 of L*.  Both
runs come from the CLI's JSON log (--log), which records every iteration's lower bound,
seconds and, for accelerated fits, the data passes so far.

Suite: the standard bench/ workloads (tall, wide, high-d; smaller n), strongly overlapping
mixtures (means within about one standard deviation), and scikit-learn's shipped data sets
(iris, wine, breast_cancer, digits; no download).

usage: bench/bench_accel.py [--emgmm build/tools/emgmm] [--threads 2] [--out FILE.md]
                            [--only NAME,...] [--max-iter 3000]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_data import make_mixture, sample  # noqa: E402  (the standard workloads' generator)

GAP = 1e-6


def standard(name, n, d, k, seed):
    rng = np.random.default_rng(seed)
    w, mu, ch = make_mixture(rng, d, k)
    x = sample(rng, n, w, mu, ch)
    return x


def overlapping(n, d, k, sep, seed):
    """K components with means drawn sep·N(0, I) apart and unit-scale random covariances:
    with sep around 1 they overlap strongly, which is where EM crawls."""
    rng = np.random.default_rng(seed)
    w = rng.dirichlet(np.full(k, 4.0))
    mu = rng.standard_normal((k, d)) * sep
    comps = rng.choice(k, size=n, p=w)
    x = np.empty((n, d))
    for j in range(k):
        a = rng.standard_normal((d, d))
        c = a @ a.T / d + 0.3 * np.eye(d)
        idx = comps == j
        x[idx] = mu[j] + rng.standard_normal((idx.sum(), d)) @ np.linalg.cholesky(c).T
    return x


def sklearn_data(name):
    from sklearn import datasets
    loader = {"iris": datasets.load_iris, "wine": datasets.load_wine,
              "breast_cancer": datasets.load_breast_cancer, "digits": datasets.load_digits}[name]
    return np.ascontiguousarray(loader().data, dtype=np.float64)


# name: (maker, K, covariance type)
SUITE = {
    "tall (n=20000 d=16 K=16)": (lambda: standard("tall", 20000, 16, 16, 1), 16, "full"),
    "wide (n=5000 d=64 K=32)": (lambda: standard("wide", 5000, 64, 32, 2), 32, "full"),
    "high-d (n=4000 d=128 K=8)": (lambda: standard("high-d", 4000, 128, 8, 3), 8, "full"),
    "overlap d=2 K=3 sep=1": (lambda: overlapping(20000, 2, 3, 1.0, 11), 3, "full"),
    "overlap d=5 K=4 sep=1": (lambda: overlapping(20000, 5, 4, 1.0, 12), 4, "full"),
    "overlap d=10 K=5 sep=0.7": (lambda: overlapping(20000, 10, 5, 0.7, 13), 5, "full"),
    "overlap d=3 K=3 sep=1 diag": (lambda: overlapping(20000, 3, 3, 1.0, 14), 3, "diag"),
    "overlap d=2 K=4 sep=0.5": (lambda: overlapping(20000, 2, 4, 0.5, 15), 4, "full"),
    "overlap d=4 K=3 sep=0.5": (lambda: overlapping(20000, 4, 3, 0.5, 16), 3, "full"),
    "iris K=3": (lambda: sklearn_data("iris"), 3, "full"),
    "wine K=3": (lambda: sklearn_data("wine"), 3, "full"),
    "breast_cancer K=2": (lambda: sklearn_data("breast_cancer"), 2, "full"),
    "digits K=10 diag": (lambda: sklearn_data("digits"), 10, "diag"),
}
OVERLAP = [k for k in SUITE if k.startswith("overlap")]


def run_fit(emgmm, path, k, cov, accel, threads, max_iter, tmp):
    log = os.path.join(tmp, "log.jsonl")
    cmd = [emgmm, "fit", path, "-k", str(k), "--covariance", cov, "--tol", "1e-10",
           "--max-iter", str(max_iter), "--seed", "0", "--threads", str(threads),
           "--accel", accel, "--log", log, "-q", "-o", os.path.join(tmp, "model.json")]
    subprocess.run(cmd, check=True)
    iters = []
    with open(log) as f:
        for line in f:
            e = json.loads(line)
            if e.get("event") == "iteration":
                iters.append(e)
    return iters


def charge(iters, target):
    """Passes and EM seconds until the lower bound first reaches target (None if never)."""
    secs = 0.0
    for e in iters:
        secs += e["seconds"]
        if e["lower_bound"] >= target:
            return e.get("passes", e["iter"]), secs
    return None, secs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--emgmm", default=os.path.join(here, "..", "build", "tools", "emgmm"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-iter", type=int, default=3000)
    ap.add_argument("--only", default="")
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    names = [n for n in SUITE if not a.only or any(o in n for o in a.only.split(","))]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            maker, k, cov = SUITE[name]
            x = maker()
            path = os.path.join(tmp, "x.npy")
            np.save(path, x)
            plain = run_fit(a.emgmm, path, k, cov, "none", a.threads, a.max_iter, tmp)
            acc = run_fit(a.emgmm, path, k, cov, "squarem", a.threads, a.max_iter, tmp)
            opt = plain[-1]["lower_bound"]
            target = opt - GAP
            pp, ps = charge(plain, target)
            ap_, as_ = charge(acc, target)
            row = dict(name=name, n=x.shape[0], d=x.shape[1], k=k, cov=cov,
                       plain_iters=len(plain), plain_converged=len(plain) < a.max_iter,
                       opt=opt, acc_final=acc[-1]["lower_bound"], acc_iters=len(acc),
                       plain_passes=pp, plain_secs=ps, acc_passes=ap_, acc_secs=as_)
            rows.append(row)
            ratio = (pp / ap_) if (pp and ap_) else float("nan")
            print(f"{name:32s} plain {pp} passes {ps:.3f} s | squarem {ap_} passes {as_:.3f} s"
                  f" | {ratio:.2f}x  (L* {opt:.10g}, squarem final {acc[-1]['lower_bound']:.10g})",
                  flush=True)
    ratios = [r["plain_passes"] / r["acc_passes"] for r in rows if r["plain_passes"] and r["acc_passes"]]
    over = [r["plain_passes"] / r["acc_passes"] for r in rows
            if r["name"] in OVERLAP and r["plain_passes"] and r["acc_passes"]]
    worst = min(ratios) if ratios else float("nan")
    summary = (f"median pass ratio {np.median(ratios):.2f}x over {len(ratios)} problems; "
               f"overlapping: min {min(over) if over else float('nan'):.2f}x, median "
               f"{np.median(over) if over else float('nan'):.2f}x; worst {worst:.2f}x "
               f"(goal: median >= 2x, overlapping >= 5x, never below 1/1.1 = 0.91x)")
    print(summary)
    if a.out:
        import platform
        with open(a.out, "w") as f:
            f.write("# SQUAREM against plain EM: data passes to within 1e-6 of plain EM's optimum\n\n")
            f.write(f"Command: `/usr/bin/python3 bench/bench_accel.py --threads {a.threads} "
                    f"--max-iter {a.max_iter} --out {a.out}`  \n")
            rev = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"],
                                 capture_output=True, text=True).stdout.strip()
            f.write(f"Tree: {rev}; {platform.node()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
                    f"load average at the end {os.getloadavg()[0]:.1f} (a shared 2-core machine: "
                    f"seconds are noisy, passes are exact)  \n")
            f.write("L* = plain EM's final lower bound with tol 1e-10 (k-means init, seed 0); "
                    "passes and EM seconds (initialisation excluded) until the lower bound first "
                    f"reaches L* − {GAP:g}.\n\n")
            f.write("| problem | n | d | K | cov | plain iters to tol 1e-10 | L* | plain passes | "
                    "plain s | squarem passes | squarem s | pass ratio | squarem final − L* |\n")
            f.write("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
            for r in rows:
                ratio = (f"{r['plain_passes'] / r['acc_passes']:.2f}x"
                         if r["plain_passes"] and r["acc_passes"] else "n/a")
                f.write(f"| {r['name']} | {r['n']} | {r['d']} | {r['k']} | {r['cov']} | "
                        f"{r['plain_iters']}{'' if r['plain_converged'] else ' (max)'} | "
                        f"{r['opt']:.10g} | {r['plain_passes']} | {r['plain_secs']:.3f} | "
                        f"{r['acc_passes']} | {r['acc_secs']:.3f} | {ratio} | "
                        f"{r['acc_final'] - r['opt']:.2e} |\n")
            f.write(f"\n{summary}\n")


if __name__ == "__main__":
    main()
