#!/usr/bin/env python3
"""bench_e2e.py — whole runs at default settings (issue 21, goal 5).

For each workload: `emgmm fit X.npy -k K --init kmeans` with every other default (tol 1e-3,
full covariances) against `GaussianMixture(n_components=K).fit(np.load(X.npy))` with every
default, each in its own process, repeated; wall seconds include reading the .npy and the
initialisation.  Reported: wall (median, min-max), user+sys CPU seconds, iterations and the
final lower bound (mean log-likelihood per sample; both engines report the same quantity).
scikit-learn's time is given twice: in-process (np.load + fit, what a user's script pays
after its imports) and for the whole process (interpreter and imports included); the ratio
uses the in-process time, the one more favourable to scikit-learn.  emgmm's default seed is
fixed (0); scikit-learn's default random_state is None, so its start, iterations and lower
bound differ between repeats: all of them are listed.

Then predict: `emgmm predict MODEL X.npy -o labels.npy` on a large data set (default 10⁷
rows of the tall shape) against `GaussianMixture.predict` with the same parameters, and the
per-row cost of that predict pass against the per-row cost of one fit iteration (goal: a
predict pass at least as fast per row as a fit pass).

    /usr/bin/python3 bench/bench_e2e.py --build build --data-dir /tmp/bdata \
        --workloads tall,wide,high-d --repeats 3 --coretype unset --out bench/results/e2e
"""
import argparse
import json
import os
import statistics
import sys
import tempfile

from bench_common import PY, cpu_name, data_dir, engine_env, med, run

WHO = "bench_e2e"
WORKLOADS = {  # name: (n, d, K) as bench/run_bench.py's standard workloads
    "tall": (1_000_000, 16, 16),
    "wide": (200_000, 64, 32),
    "high-d": (50_000, 256, 8),
}

SK_FIT = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from sklearn.mixture import GaussianMixture
t1 = time.perf_counter()
X = np.load(sys.argv[1])
gm = GaussianMixture(n_components=int(sys.argv[2])).fit(X)
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "fit_s": t2 - t1, "n_iter": int(gm.n_iter_),
                  "lower_bound": float(gm.lower_bound_), "converged": bool(gm.converged_)}))
"""

SK_PREDICT = r"""
import json, sys, time
import numpy as np
from sklearn.mixture import GaussianMixture
m = json.load(open(sys.argv[1]))
K = m["n_components"]
gm = GaussianMixture(n_components=K)
gm.weights_ = np.array(m["weights"]); gm.means_ = np.array(m["means"])
gm.covariances_ = np.array(m["covariances"])
from sklearn.mixture._gaussian_mixture import _compute_precision_cholesky
gm.precisions_cholesky_ = _compute_precision_cholesky(gm.covariances_, "full")
t0 = time.perf_counter()
X = np.load(sys.argv[2])
t1 = time.perf_counter()
lab = gm.predict(X)
t2 = time.perf_counter()
np.save(sys.argv[3], lab.astype(np.int32))
print(json.dumps({"load_s": t1 - t0, "predict_s": t2 - t1}))
"""


def span(xs):
    """every value of a list (iterations, lower bounds: they differ between repeats only
    where the engine's initialisation is random)"""
    return ", ".join(f"{x:.10g}" if isinstance(x, float) else str(x) for x in xs)


def load():
    return os.getloadavg()[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--data-dir", default="/tmp/emgmm-bench-data")
    ap.add_argument("--workloads", default="tall,wide,high-d")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--coretype", default="unset",
                    help="OPENBLAS_CORETYPE for both engines; 'unset' removes it")
    ap.add_argument("--predict-n", type=int, default=10_000_000,
                    help="rows for the predict comparison (0: skip)")
    ap.add_argument("--out", default=None, help="path without extension (.md, .json)")
    a = ap.parse_args()

    env = engine_env(a.threads, a.coretype)
    emgmm = os.path.join(a.build, "tools", "emgmm")
    model, fam = cpu_name()
    tmp = tempfile.mkdtemp(prefix="e2e")
    rows, results = [], {"cpu": f"{model} family/model {'/'.join(fam)}",
                         "threads": a.threads, "coretype": a.coretype, "workloads": {}}
    for w in a.workloads.split(","):
        n, d, k = WORKLOADS[w]
        path = data_dir(a.data_dir, n, d, k)
        X = os.path.join(path, "X.npy")
        mpath = os.path.join(tmp, f"{w}.json")
        e, s = {"wall": [], "cpu": []}, {"wall": [], "cpu": [], "fit": []}
        loads = [load()]
        for _ in range(a.repeats):  # interleaved: emgmm, scikit-learn, emgmm, ...
            logp = os.path.join(tmp, f"{w}.log")
            # issue 21 goal 5 compares the defaults of both with k-means init: the CLI's
            # default start is smem (docs/search.md), so kmeans is named
            wall, cpu, _ = run([emgmm, "fit", X, "-k", str(k), "--init", "kmeans", "-o", mpath,
                                "--log", logp, "-q"], env, WHO)
            done = json.loads(open(logp).read().strip().splitlines()[-1])
            e["wall"].append(wall); e["cpu"].append(cpu)
            e.setdefault("iter", []).append(done["n_iter"])
            e.setdefault("lb", []).append(done["lower_bound"])
            wall, cpu, out = run([PY, "-c", SK_FIT, X, str(k)], env, WHO)
            r = json.loads(out)
            s["wall"].append(wall); s["cpu"].append(cpu); s["fit"].append(r["fit_s"])
            s.setdefault("iter", []).append(r["n_iter"])
            s.setdefault("lb", []).append(r["lower_bound"])
            loads.append(load())
        ratio = statistics.median(s["fit"]) / statistics.median(e["wall"])
        results["workloads"][w] = {"n": n, "d": d, "K": k, "emgmm": e, "sklearn": s,
                                   "ratio": ratio, "load": loads}
        rows.append(f"| {w} ({n:,} × {d}, K = {k}) | {med(e['wall'])} | {med(e['cpu'])} | "
                    f"{span(e['iter'])} | {span(e['lb'])} | {med(s['fit'])} | {med(s['wall'])} | "
                    f"{med(s['cpu'])} | {span(s['iter'])} | {span(s['lb'])} | **{ratio:.1f}×** | "
                    f"{min(loads):.1f}–{max(loads):.1f} |")
        print(rows[-1], flush=True)

    pred = []
    if a.predict_n > 0 and "tall" in results["workloads"]:
        n, d, k = WORKLOADS["tall"]
        path = data_dir(a.data_dir, a.predict_n, d, k)
        X = os.path.join(path, "X.npy")
        mpath = os.path.join(tmp, "tall.json")
        e, s = [], []
        for _ in range(a.repeats):
            wall, cpu, _ = run([emgmm, "predict", mpath, X, "-o",
                                os.path.join(tmp, "lab_e.npy")], env, WHO)
            e.append(wall)
            _, _, out = run([PY, "-c", SK_PREDICT, mpath, X, os.path.join(tmp, "lab_s.npy")],
                            env, WHO)
            s.append(json.loads(out)["load_s"] + json.loads(out)["predict_s"])
        import numpy as np
        agree = float(np.mean(np.load(os.path.join(tmp, "lab_e.npy")) ==
                              np.load(os.path.join(tmp, "lab_s.npy"))))
        # one fit iteration per row, from the fit above: its log has per-iteration seconds
        logp = os.path.join(tmp, "tall.log")
        its = [json.loads(l)["seconds"] for l in open(logp) if '"iteration"' in l]
        it_row = statistics.median(its[1:] or its) / WORKLOADS["tall"][0]
        pr_row = statistics.median(e) / a.predict_n
        results["predict"] = {"n": a.predict_n, "emgmm_wall": e, "sklearn_s": s,
                              "labels_agree": agree, "fit_iter_s_per_row": it_row,
                              "predict_s_per_row": pr_row}
        pred.append(f"| {a.predict_n:,} × {d}, K = {k} | {med(e)} | {med(s)} | "
                    f"{statistics.median(s) / statistics.median(e):.1f}× | "
                    f"{pr_row * 1e9:.1f} ns | {it_row * 1e9:.1f} ns | {agree:.6f} |")
        print(pred[-1], flush=True)

    md = ["# End to end at default settings (issue 21, goal 5)\n",
          f"CPU: {results['cpu']}; {a.threads} threads; OPENBLAS_CORETYPE {a.coretype}; "
          f"{a.repeats} interleaved repeats; `{' '.join(sys.argv)}`\n",
          "| workload | emgmm wall s | emgmm CPU s | iter | lower bound | sklearn load+fit s "
          "| sklearn process s | sklearn CPU s | iter | lower bound | ratio | load |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|", *rows]
    if pred:
        md += ["\nPredict (labels to .npy; scikit-learn: np.load + predict, same parameters):\n",
               "| data | emgmm wall s | sklearn s | ratio | emgmm predict per row | "
               "emgmm fit iteration per row | labels agree |", "|---|---|---|---|---|---|---|",
               *pred]
    text = "\n".join(md) + "\n"
    print(text)
    if a.out:
        open(a.out + ".md", "w").write(text)
        json.dump(results, open(a.out + ".json", "w"), indent=1)


if __name__ == "__main__":
    main()
