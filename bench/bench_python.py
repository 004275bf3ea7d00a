#!/usr/bin/python3
"""bench_python.py — emgmm.GaussianMixture from Python beside scikit-learn's and the CLI's.

For each workload of run_bench.py (data and the shared initial model from gen_data.py), three
engines start from the same initial parameters with tol = 0, each in its own process:

  python   emgmm.GaussianMixture(weights_init=, means_init=, precisions_init=).fit(X)
  sklearn  sklearn.mixture.GaussianMixture with the same arguments (threadpoolctl limits the BLAS)
  cli      emgmm fit X.npy --init init.json --tol 0 (per-iteration seconds from its --log)

The Python engines' time per iteration is (t(m+1) - t(1)) / m over whole fit() calls (as
bench_sklearn.py), so everything the binding adds per call cancels and what it adds per
iteration is counted; the median of --repeats.  Peak RSS is each process's ru_maxrss (from
wait4), reported against the data array's size; 'rss-base' is the peak minus the process's RSS
just before it loaded the data (the interpreter, numpy, the libraries).  The lower bound after
m+1 iterations is printed so the engines can be compared (python and cli agree bit for bit).

Usage: /usr/bin/python3 bench/bench_python.py [--workloads tall,wide,high-d] [--m 3]
           [--repeats 3] [--threads 2] [--n-scale 1.0] [--engines python,cli,sklearn]
           [--build build] [--data-dir bench/data] [--out FILE.md]
Needs the package built (PYTHONPATH=BUILD/python is set for the child) and BUILD/tools/emgmm.
Numbers on a machine shared with other work are noisy: run it on a quiet one.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = "/usr/bin/python3"
WORKLOADS = {"tall": (1_000_000, 16, 16), "wide": (200_000, 64, 32), "high-d": (50_000, 256, 8),
             "seed": (20_000, 8, 4)}


def rss_now_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def load_init(ddir):
    with open(os.path.join(ddir, "init.json")) as f:
        m = json.load(f)
    w = np.array(m["weights"], dtype=np.float64)
    mu = np.array(m["means"], dtype=np.float64)
    cov = np.array(m["covariances"], dtype=np.float64)
    return w, mu, np.linalg.inv(cov)


def child(engine, ddir, m, repeats, threads, reg_covar):
    """One engine in this process; prints RESULT {json}."""
    base_kib = None
    if engine == "python":
        import emgmm
        from emgmm import ConvergenceWarning

        def make(iters):
            return emgmm.GaussianMixture(K, tol=0.0, max_iter=iters, reg_covar=reg_covar,
                                         weights_init=w, means_init=mu, precisions_init=p,
                                         n_threads=threads or None)
    else:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.mixture import GaussianMixture
        from threadpoolctl import threadpool_limits
        if threads:
            threadpool_limits(threads)

        def make(iters):
            return GaussianMixture(K, tol=0.0, max_iter=iters, reg_covar=reg_covar,
                                   weights_init=w, means_init=mu, precisions_init=p)
    w, mu, p = load_init(ddir)
    K = len(w)
    base_kib = rss_now_kib()
    X = np.load(os.path.join(ddir, "X.npy"))
    warnings.simplefilter("ignore", ConvergenceWarning)
    make(1).fit(X)  # warm-up
    per_iter, lb = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        make(1).fit(X)
        t1 = time.perf_counter()
        g = make(m + 1).fit(X)
        t2 = time.perf_counter()
        per_iter.append(((t2 - t1) - (t1 - t0)) / m)
        lb = float(g.lower_bound_)
    info = {}
    if engine == "python":
        info = emgmm.threadpool_info()
    print("RESULT " + json.dumps({
        "s_per_iter": statistics.median(per_iter), "all": per_iter, "lower_bound": lb,
        "base_rss_kib": base_kib, "data_bytes": int(X.nbytes),
        "core": info.get("corename"), "n_iter": int(g.n_iter_)}), flush=True)


def run_child(cmd, env, timeout):
    """Runs cmd; returns (stdout, peak RSS in KiB) from wait4."""
    with tempfile.TemporaryFile() as out:
        p = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.PIPE)
        t0 = time.time()
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.time() - t0 > timeout:
                p.kill()
                os.wait4(p.pid, 0)
                raise RuntimeError("timeout: " + " ".join(cmd))
            time.sleep(0.05)
        p.returncode = os.waitstatus_to_exitcode(status)
        err = p.stderr.read().decode()
        out.seek(0)
        text = out.read().decode()
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (cmd[0], p.returncode, err.strip()[-500:]))
    return text, ru.ru_maxrss


def run_cli(cli, ddir, m, repeats, env, timeout):
    per_iter, rss, lb = [], 0, None
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            log = os.path.join(tmp, "log.jsonl")
            _, r = run_child([cli, "fit", os.path.join(ddir, "X.npy"), "--init",
                              os.path.join(ddir, "init.json"), "--tol", "0", "--max-iter",
                              str(m + 1), "--log", log, "-q", "-o", os.path.join(tmp, "m.json")],
                             env, timeout)
            rss = max(rss, r)
            its = [json.loads(x) for x in open(log)]
            secs = [e["seconds"] for e in its if e["event"] == "iteration"]
            per_iter.append(statistics.mean(secs[1:]) if len(secs) > 1 else secs[0])
            lb = [e for e in its if e["event"] == "done"][0]["lower_bound"]
    return {"s_per_iter": statistics.median(per_iter), "all": per_iter, "lower_bound": lb}, rss


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workloads", default="tall")
    ap.add_argument("--engines", default="python,cli,sklearn")
    ap.add_argument("--m", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-scale", type=float, default=1.0)
    ap.add_argument("--reg-covar", type=float, default=1e-6)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--data-dir", default=os.path.join(HERE, "data"))
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--out", default=None, help="also write the table (Markdown) here")
    ap.add_argument("--child", nargs=2, metavar=("ENGINE", "DATADIR"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        child(a.child[0], a.child[1], a.m, a.repeats, a.threads, a.reg_covar)
        return 0
    build = os.path.abspath(a.build)
    cli = os.path.join(build, "tools", "emgmm")
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads),
               PYTHONPATH=os.path.join(build, "python") + os.pathsep +
               os.environ.get("PYTHONPATH", ""))
    engines = a.engines.split(",")
    lines = ["| workload | n×d, K | engine | s/iter | ×CLI | sklearn/this | peak RSS MiB | "
             "RSS/data | (RSS−base)/data | lower bound after m+1 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for wname in a.workloads.split(","):
        n0, d, k = WORKLOADS[wname]
        n = max(4 * k * d, int(round(n0 * a.n_scale)))
        ddir = subprocess.run([PY, os.path.join(HERE, "gen_data.py"), "--n", str(n), "--d",
                               str(d), "--k", str(k), "--seed", "1", "--out",
                               os.path.join(a.data_dir, "n%d_d%d_k%d_s1" % (n, d, k))],
                              capture_output=True, text=True, check=True).stdout.strip()
        res = {}
        for e in engines:
            print("# %s: %s ..." % (wname, e), file=sys.stderr, flush=True)
            if e == "cli":
                r, rss = run_cli(cli, ddir, a.m, a.repeats, env, a.timeout)
                r["base_rss_kib"] = None
            else:
                out, rss = run_child([PY, os.path.abspath(__file__), "--child", e, ddir, "--m",
                                      str(a.m), "--repeats", str(a.repeats), "--threads",
                                      str(a.threads), "--reg-covar", str(a.reg_covar)],
                                     env, a.timeout)
                r = json.loads([x for x in out.splitlines() if x.startswith("RESULT ")][0][7:])
            r["rss_kib"] = rss
            res[e] = r
        data_bytes = n * d * 8
        for e in engines:
            r = res[e]
            xcli = r["s_per_iter"] / res["cli"]["s_per_iter"] if "cli" in res else float("nan")
            vs = (res["sklearn"]["s_per_iter"] / r["s_per_iter"]) if "sklearn" in res else float("nan")
            rss_mib = r["rss_kib"] / 1024
            base = r.get("base_rss_kib")
            lines.append("| %s | %d×%d, %d | %s | %.4f | %.3f | %.1f | %.0f | %.2f | %s | %.12g |" % (
                wname, n, d, k, e, r["s_per_iter"], xcli, vs, rss_mib,
                r["rss_kib"] * 1024 / data_bytes,
                "%.2f" % ((r["rss_kib"] - base) * 1024 / data_bytes) if base else "—",
                r["lower_bound"]))
    info = subprocess.run([PY, "-c", "import emgmm, json; print(json.dumps(emgmm.threadpool_info()))"],
                          env=env, capture_output=True, text=True)
    head = ["# bench_python.py: m=%d, repeats=%d, threads=%d, load %s" % (
        a.m, a.repeats, a.threads, " ".join("%.2f" % x for x in os.getloadavg())),
        "# " + info.stdout.strip(), ""]
    text = "\n".join(head + lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
