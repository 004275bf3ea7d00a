#!/usr/bin/python3
"""make-figures.py — re-makes the pictures under docs/img/ that the README shows, with the very
commands the README lists (`emgmm fit`, `emgmm select`, `emgmm plot`).

    /usr/bin/python3 tools/make-figures.py [--emgmm build/tools/emgmm] [--out docs/img]

Data: the demo's (`emgmm demo`: 4,000 points from N(20, 5²) and 8,000 from N(40, 5²), made by
the same splitmix64 + Box–Muller generator and seed as tools/cmd_demo.c, checked against the
demo's printed fit) and a 2-D example of three Gaussians with different shapes (numpy,
seed 17).  The intermediate files go to a temporary directory; only the PNGs are kept.
"""
import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

MASK = (1 << 64) - 1


class Demo:
    """tools/cmd_demo.c's generator: splitmix64, uniform on (0, 1), Box–Muller pairs."""

    def __init__(self, seed):
        self.s = seed

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform01(self):
        return ((self.next() >> 11) + 0.5) * 2.0 ** -53

    def normal(self, n, mu, sigma):
        x = np.empty(n)
        for i in range(0, n, 2):
            r = math.sqrt(-2.0 * math.log(self.uniform01()))
            t = 6.283185307179586 * self.uniform01()
            x[i] = mu + sigma * r * math.cos(t)
            if i + 1 < n:
                x[i + 1] = mu + sigma * r * math.sin(t)
        return x


def demo_data():
    g = Demo(20260101)
    return np.concatenate([g.normal(4000, 20.0, 5.0), g.normal(8000, 40.0, 5.0)])


def blobs_2d():
    r = np.random.default_rng(17)
    return np.vstack([r.multivariate_normal([0.0, 0.0], [[1.0, 0.75], [0.75, 1.2]], 1200),
                      r.multivariate_normal([4.5, 1.5], [[0.6, -0.3], [-0.3, 0.9]], 800),
                      r.multivariate_normal([1.0, 5.0], [[2.4, 0.0], [0.0, 0.35]], 600)])


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--emgmm", default=os.path.join(root, "build", "tools", "emgmm"))
    ap.add_argument("--out", default=os.path.join(root, "docs", "img"))
    a = ap.parse_args()
    emgmm = os.path.abspath(a.emgmm)
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="emgmm-figures.")
    env = dict(os.environ, OMP_NUM_THREADS="1")

    def run(*args):
        if args[0] == "plot":
            args = args + ("--dpi", "90")
        print("$ emgmm " + " ".join(os.path.basename(x) if os.path.isabs(x) else x
                                      for x in args), flush=True)
        subprocess.run([emgmm, *args], check=True, cwd=tmp, env=env, stdout=subprocess.DEVNULL)

    try:
        # the demo's data, checked against `emgmm demo`'s own fit
        np.save(os.path.join(tmp, "demo.npy"), demo_data())
        shown = subprocess.run([emgmm, "demo", "--threads", "1"], check=True, env=env,
                               capture_output=True, text=True).stdout
        want = [tuple(map(float, m)) for m in
                re.findall(r"^\d\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", shown, re.M)]
        run("fit", "demo.npy", "-k", "2", "--init", "kmeans", "-o", "demo.json", "-q")
        import json
        with open(os.path.join(tmp, "demo.json")) as f:
            m = json.load(f)
        got = [(w, mu[0], math.sqrt(c[0][0]))
               for w, mu, c in zip(m["weights"], m["means"], m["covariances"])]
        if len(want) != 2 or any(abs(x - y) > 1e-4 for g, w in zip(got, want)
                                 for x, y in zip(g, w)):
            sys.exit(f"make-figures: the regenerated demo data do not reproduce 'emgmm demo' "
                     f"({got} against {want})")
        run("plot", "density", "--model", "demo.json", "--data", "demo.npy",
            "-o", os.path.join(out, "demo-density.png"))

        # the 2-D example
        np.savetxt(os.path.join(tmp, "blobs.csv"), blobs_2d(), delimiter=",", header="x,y",
                   comments="", fmt="%.17g")
        run("fit", "blobs.csv", "-k", "3", "-o", "blobs.json", "-q")
        run("plot", "clusters", "--model", "blobs.json", "--data", "blobs.csv",
            "-o", os.path.join(out, "blobs-clusters.png"))
        run("plot", "uncertainty", "--model", "blobs.json", "--data", "blobs.csv",
            "-o", os.path.join(out, "blobs-uncertainty.png"))
        run("fit", "blobs.csv", "-k", "3", "--init", "random", "--tol", "1e-6", "-o", "r.json",
            "--log", "fit.jsonl", "-q")
        run("plot", "convergence", "--log", "fit.jsonl",
            "-o", os.path.join(out, "blobs-convergence.png"))
        run("select", "blobs.csv", "--k", "1:7", "--table", "sweep.csv", "-q")
        run("plot", "bic", "--table", "sweep.csv", "-o", os.path.join(out, "blobs-bic.png"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"make-figures: pictures in {out}")


if __name__ == "__main__":
    main()
