#!/usr/bin/python3
"""bench_sklearn.py — scikit-learn GaussianMixture (full covariance) on a gen_data.py data set.

Starts every fit from the shared initial model (weights_init, means_init, precisions_init),
tol = 0, and times fit() with max_iter = 1 and max_iter = m+1: per-iteration time is
(t(m+1) - t(1)) / m, so fixed costs (input checks, the init-resp M-step sklearn always runs,
the final E-step) cancel.  Prints one line "RESULT {json}".

Usage: /usr/bin/python3 bench/bench_sklearn.py DATADIR [--m 3] [--repeats 3] [--threads 2]
                                                [--warmup 1] [--reg-covar 1e-6]
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time
import warnings

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data")
    ap.add_argument("--m", type=int, default=3, help="timed iterations beyond the first")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="BLAS/OpenMP threads (0: leave as is)")
    ap.add_argument("--reg-covar", type=float, default=1e-6)
    ap.add_argument("--warmup", type=int, default=1, help="untimed max_iter=1 fits first")
    a = ap.parse_args(argv)
    if a.m < 1 or a.repeats < 1:
        ap.error("need m >= 1 and repeats >= 1")

    from threadpoolctl import threadpool_info, threadpool_limits
    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    if a.threads > 0:
        threadpool_limits(limits=a.threads)
    warnings.simplefilter("ignore", ConvergenceWarning)

    with open(os.path.join(a.data, "meta.txt")) as f:
        n, d, k = (int(v) for v in f.read().split()[:3])
    x = np.load(os.path.join(a.data, "X.npy"))
    assert x.shape == (n, d) and x.dtype == np.float64
    init = np.fromfile(os.path.join(a.data, "init.f64"), dtype="<f8")
    assert init.size == k + k * d + k * d * d
    w0 = init[:k].copy()
    mu0 = init[k:k + k * d].reshape(k, d).copy()
    cov0 = init[k + k * d:].reshape(k, d, d)
    prec0 = np.array([np.linalg.inv(c) for c in cov0])
    prec0 = 0.5 * (prec0 + prec0.transpose(0, 2, 1))

    def fit(iters):
        gm = GaussianMixture(n_components=k, covariance_type="full", tol=0.0,
                             reg_covar=a.reg_covar, max_iter=iters, n_init=1,
                             init_params="random_from_data", weights_init=w0,
                             means_init=mu0, precisions_init=prec0, random_state=0,
                             warm_start=False)
        t0 = time.perf_counter()
        gm.fit(x)
        return time.perf_counter() - t0, gm

    for _ in range(a.warmup):  # imports, BLAS buffers, page faults
        fit(1)
    per_iter, t1s, tms = [], [], []
    gm = None
    for _ in range(a.repeats):
        t1, _g = fit(1)
        tm, gm = fit(a.m + 1)
        t1s.append(t1)
        tms.append(tm)
        per_iter.append((tm - t1) / a.m)
    score = float(gm.score(x))
    info = [i for i in threadpool_info() if i.get("internal_api") == "openblas"]
    res = {
        "engine": "sklearn", "version": sklearn.__version__, "dtype": "float64",
        "n": n, "d": d, "K": k, "m": a.m, "repeats": a.repeats, "warmup": a.warmup,
        "threads": info[0]["num_threads"] if info else None,
        "blas_core": info[0].get("architecture") if info else None,
        "per_iter_s": per_iter, "t1_s": t1s, "tm_s": tms,
        "median_s": statistics.median(per_iter), "min_s": min(per_iter), "max_s": max(per_iter),
        "mean_loglik": score, "n_iter": int(gm.n_iter_),
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "data_bytes": int(x.nbytes),
    }
    print("RESULT " + json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
