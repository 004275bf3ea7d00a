#!/usr/bin/python3
"""gen_data.py — seeded Gaussian-mixture data and a shared initial model for the benchmarks.

Writes into OUTDIR (default bench/data/n<N>_d<D>_k<K>_s<SEED>/):
  X.f64      the n×d data, row-major, raw little-endian float64 (read by the C/C++ drivers)
  X.npy      the same array as .npy (read by the scikit-learn driver)
  init.json  the initial model in emgmm's model-file format (full covariances)
  init.f64   the same initial model as raw little-endian float64:
             weights[K], means[K][d], covariances[K][d][d], in that order
  meta.txt   one line "n d K seed" (the drivers read the shape from it)

Every engine starts from init.*: a few Lloyd steps (seeded by k-means++) on a subsample,
then hard-assignment weights, means and covariances (plus 1e-3 × the mean feature variance on
the diagonal, so every covariance is comfortably positive definite).  Same arguments, same bytes.

Usage: /usr/bin/python3 bench/gen_data.py --n 1000000 --d 16 --k 16 [--seed 1] [--out DIR]
"""
import argparse
import json
import os
import sys

import numpy as np


def make_mixture(rng, d, k):
    """True parameters: Dirichlet weights, spread means, random well-conditioned covariances."""
    weights = rng.dirichlet(np.full(k, 5.0))
    means = rng.standard_normal((k, d)) * 2.0
    chols = np.empty((k, d, d))
    for j in range(k):
        a = rng.standard_normal((d, d))
        cov = a @ a.T / d + 0.1 * np.eye(d)
        cov *= rng.uniform(0.5, 2.0)
        chols[j] = np.linalg.cholesky(cov)
    return weights, means, chols


def sample(rng, n, weights, means, chols, chunk=1 << 17):
    d = means.shape[1]
    x = np.empty((n, d))
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        z = rng.choice(len(weights), size=hi - lo, p=weights)
        eps = rng.standard_normal((hi - lo, d))
        blk = x[lo:hi]
        for j in range(len(weights)):
            sel = z == j
            blk[sel] = eps[sel] @ chols[j].T + means[j]
    return x


def sqdist(x, c):
    return (x * x).sum(1)[:, None] - 2.0 * x @ c.T + (c * c).sum(1)[None, :]


def initial_model(rng, x, k, sub=20000, lloyd=5):
    """k-means++ seeding and a few Lloyd steps on a subsample, then hard-assignment moments."""
    n, d = x.shape
    idx = rng.choice(n, size=min(n, sub), replace=False)
    idx.sort()
    s = x[idx]
    m = s.shape[0]
    centres = np.empty((k, d))
    centres[0] = s[rng.integers(m)]
    dist = ((s - centres[0]) ** 2).sum(1)
    for j in range(1, k):
        p = dist / dist.sum()
        centres[j] = s[rng.choice(m, p=p)]
        dist = np.minimum(dist, ((s - centres[j]) ** 2).sum(1))
    for _ in range(lloyd):
        lab = sqdist(s, centres).argmin(1)
        for j in range(k):
            if np.any(lab == j):
                centres[j] = s[lab == j].mean(0)
    lab = sqdist(s, centres).argmin(1)
    floor = 1e-3 * float(s.var(0).mean())
    weights = np.empty(k)
    means = np.empty((k, d))
    covs = np.empty((k, d, d))
    for j in range(k):
        pts = s[lab == j]
        if pts.shape[0] < 2:  # empty cluster: fall back to a random row, global covariance
            pts = s
            means[j] = s[rng.integers(m)]
            weights[j] = 1.0
        else:
            means[j] = pts.mean(0)
            weights[j] = pts.shape[0]
        c = np.atleast_2d(np.cov(pts, rowvar=False, bias=True))
        c = 0.5 * (c + c.T) + floor * np.eye(d)
        covs[j] = c
    weights /= weights.sum()
    for j in range(k):
        np.linalg.cholesky(covs[j])  # raises if not PD: better here than in a driver
    return weights, means, covs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--d", type=int, required=True)
    ap.add_argument("--k", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=None, help="output directory")
    ap.add_argument("--force", action="store_true", help="regenerate even if present")
    a = ap.parse_args(argv)
    if a.n < a.k or a.d < 1 or a.k < 1:
        ap.error("need n >= K >= 1 and d >= 1")
    out = a.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                                "n%d_d%d_k%d_s%d" % (a.n, a.d, a.k, a.seed))
    meta = os.path.join(out, "meta.txt")
    if not a.force and os.path.exists(meta):
        print(out)
        return 0
    os.makedirs(out, exist_ok=True)

    rng = np.random.default_rng([a.seed, a.n, a.d, a.k])
    w, mu, chols = make_mixture(rng, a.d, a.k)
    x = sample(rng, a.n, w, mu, chols)
    iw, imu, icov = initial_model(rng, x, a.k)

    x.astype("<f8", copy=False).tofile(os.path.join(out, "X.f64"))
    np.save(os.path.join(out, "X.npy"), x)
    np.concatenate([iw, imu.ravel(), icov.ravel()]).astype("<f8").tofile(
        os.path.join(out, "init.f64"))
    model = {
        "format": "emgmm-model", "version": 1, "covariance_type": "full",
        "n_components": a.k, "n_features": a.d,
        "weights": iw.tolist(), "means": imu.tolist(), "covariances": icov.tolist(),
        "converged": False, "n_iter": 0,
        "generator": {"tool": "bench/gen_data.py", "n": a.n, "d": a.d, "K": a.k, "seed": a.seed},
    }
    with open(os.path.join(out, "init.json"), "w") as f:
        json.dump(model, f)  # json writes repr(float): doubles round-trip exactly
        f.write("\n")
    # meta.txt last: its presence marks a complete data set
    with open(meta, "w") as f:
        f.write("%d %d %d %d\n" % (a.n, a.d, a.k, a.seed))
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
